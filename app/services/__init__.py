"""Queries and domain logic behind the HTTP handlers."""
