"""Custom fields: admin-defined keys and their values on records (not form fields)."""
