"""Email: the outbox written with each change, what is sent, and who chose what."""
