"""Loading source files into the Alembic-owned tables, idempotently and in one transaction."""
