"""API keys: created and revoked from the CLI, shown once, stored as a SHA-256 digest.

A key reads `dtmgeo_<key id>_<secret>`. The key id finds the row; the secret's digest is
compared in constant time. Secrets are 32 random bytes, so a plain SHA-256 suffices
(no password stretching is needed for high-entropy tokens).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import DtmGeoError
from app.models import ApiKey

SCOPES = ("read", "ingest", "admin")
PREFIX = "dtmgeo"


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        # admin implies ingest and read; ingest implies read
        implied = {
            "admin": {"admin", "ingest", "read"},
            "ingest": {"ingest", "read"},
            "read": {"read"},
        }
        return any(scope in implied[s] for s in self.scopes)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, scopes: list[str]) -> str:
    """Store a new key and return it (the only time it is ever shown)."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise DtmGeoError(f"scopes must be among {', '.join(SCOPES)} (got {', '.join(scopes)})")
    if session.execute(select(ApiKey.id).where(ApiKey.name == name)).first():
        raise DtmGeoError(f"a key named '{name}' exists already")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    session.add(
        ApiKey(name=name, key_id=key_id, secret_sha256=_digest(secret), scopes=sorted(set(scopes)))
    )
    session.flush()
    return f"{PREFIX}_{key_id}_{secret}"


def revoke_key(session: Session, name: str) -> None:
    done = session.execute(
        update(ApiKey)
        .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
    ).rowcount
    if not done:
        raise DtmGeoError(f"no active key named '{name}'")


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.execute(select(ApiKey).order_by(ApiKey.name)).scalars())


def verify(session: Session, presented: str | None) -> KeyInfo | None:
    """The key's owner and scopes, or None for a missing, malformed, unknown or revoked key."""
    if not presented:
        return None
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        _digest("constant-time-filler")  # same work whatever the shape of the input
        return None
    row = session.execute(
        select(ApiKey).where(ApiKey.key_id == parts[1], ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    expected = row.secret_sha256 if row else "0" * 64
    if not hmac.compare_digest(_digest(parts[2]), expected) or row is None:
        return None
    return KeyInfo(row.id, row.name, frozenset(row.scopes))
