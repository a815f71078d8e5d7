"""Declarative base, constraint naming and the name vocabularies of the tables (the
domain vocabulary is app.vocabulary)."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Controlled vocabularies, enforced by named CHECK constraints.
NAME_LANGS = ("en", "ar")
NAME_KINDS = ("official", "provider", "alternative")


def in_list(column: str, values: tuple) -> str:
    """SQL text for `column IN (...)`, for CHECK constraints."""
    rendered = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)
    return f"{column} IN ({rendered})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
