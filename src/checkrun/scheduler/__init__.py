"""Time acts: one lease-based scheduler in every `checkrun serve` runs the registered jobs."""
