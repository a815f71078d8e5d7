"""API keys: created and revoked from the CLI, shown once, stored as a SHA-256 digest.

A key reads `dtmgeo_<key id>_<secret>`. The key id finds the row; the secret's digest is
compared in constant time. Secrets are 32 random bytes, so a plain SHA-256 suffices
(no password stretching is needed for high-entropy tokens).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
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
    operation: str | None = None  # the one operation it may write; any when None

    def may_write(self, operation: str) -> bool:
        return self.operation is None or self.operation == operation

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


def create_key(session: Session, name: str, scopes: list[str], operation: str | None = None) -> str:
    """Store a new key and return it (the only time it is ever shown); with `operation`
    (an ISO3 code or slug), it writes that operation's rounds only."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise DtmGeoError(f"scopes must be among {', '.join(SCOPES)} (got {', '.join(scopes)})")
    if session.execute(select(ApiKey.id).where(ApiKey.name == name)).first():
        raise DtmGeoError(f"a key named '{name}' exists already")
    if operation is not None:
        from app.services import operations  # the services import this module's KeyInfo

        operation = operations.resolve(session, operation).iso3
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            name=name,
            key_id=key_id,
            secret_sha256=_digest(secret),
            scopes=sorted(set(scopes)),
            operation=operation,
        )
    )
    session.flush()
    return f"{PREFIX}_{key_id}_{secret}"


# Bumped by every revocation in this process: its key caches forget everything at once.
# Other processes' caches forget within their `seconds` (at most one).
_revocations = 0


def revoke_key(session: Session, name: str) -> None:
    global _revocations
    _revocations += 1
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
    return KeyInfo(row.id, row.name, frozenset(row.scopes), row.operation)


class KeyCache:
    """Keys verified for a scope, remembered for at most `seconds` (no more than 1).

    A key revoked by any process (the CLI is another one) is refused within `seconds`;
    revoked in this process, at once. Only successes are remembered, so a new key works
    at once too.
    """

    def __init__(
        self,
        sessions: Callable[[], Session],
        seconds: float = 1.0,
        scope: str = "read",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.sessions, self.seconds, self.scope, self.clock = (
            sessions,
            min(seconds, 1.0),
            scope,
            clock,
        )
        self._until: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def valid(self, presented: str) -> bool:
        now = self.clock()
        with self._lock:
            until, generation = self._until.get(presented, (0.0, -1))
            if until > now and generation == _revocations:
                return True
            generation = _revocations
        with self.sessions() as session:
            key = verify(session, presented)
        if key is None or not key.allows(self.scope):
            return False
        if self.seconds > 0:
            with self._lock:
                if len(self._until) > 10_000:  # many distinct keys: start afresh
                    self._until.clear()
                self._until[presented] = (now + self.seconds, generation)
        return True
