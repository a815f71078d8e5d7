"""FastAPI dependencies, as `Annotated` aliases for handlers."""

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.auth import KeyInfo, verify
from app.errors import Forbidden, Unauthorized
from app.settings import Settings


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A read session per request; the transaction is rolled back at the end.

    Async, so that opening it costs no thread hop: a session takes a connection only when
    it first runs SQL, and answers found in memory run none. Closing one that did (a
    rollback on the connection) goes to a thread."""
    session = request.app.state.sessionmaker()
    known = request.app.state.version_clock.fresh()
    if known is not None:  # services key their memos by it (app.memo)
        session.info["data_version"] = known[0]
    try:
        yield session
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(session.close)
        else:
            session.close()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def presented_key(request: Request) -> str | None:
    """The API key from `X-API-Key`, or from DTM's `Ocp-Apim-Subscription-Key`."""
    return request.headers.get("x-api-key") or request.headers.get("ocp-apim-subscription-key")


def require(scope: str):
    """A dependency that admits only keys carrying `scope` (401 or 403 otherwise)."""

    def check(request: Request) -> KeyInfo:
        # on the primary: a key made a moment ago may not have reached a replica yet
        with request.app.state.primary_sessionmaker() as session:
            key = verify(session, presented_key(request))
        if key is None:
            raise Unauthorized(
                "a valid API key is required: send it in the X-API-Key header "
                "(keys are created with `dtm-geo keys create`)"
            )
        if not key.allows(scope):
            raise Forbidden(f"the key '{key.name}' lacks the '{scope}' scope")
        request.app.state.limiter.take(scope, key)  # 429 when over its rate (RATE_LIMIT_*)
        return key

    return check
