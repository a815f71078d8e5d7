"""Posting round data: parse, stage with COPY, validate in SQL, apply atomically, audit."""
