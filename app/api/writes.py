"""Writes run in a worker thread, never on the event loop.

Health checks and reads keep answering while a write parses, imports or waits for its
round's lock. A write that cannot take the lock within WRITE_LOCK_TIMEOUT answers 409
with Retry-After; a client that disconnects before the commit has its database work
cancelled and rolled back (its Idempotency-Key makes the retry safe).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import HTTPException, Request

from app.ingest.cancel import CancelToken, ClientGone
from app.ingest.pipeline import RoundBusy

T = TypeVar("T")
POLL_SECONDS = 0.2


async def run_write(request: Request, work: Callable[[CancelToken], T]) -> T:
    """`work(token)` in a worker thread, cancelled through `token` if the client leaves."""
    token = CancelToken()
    outcome: dict = {}

    async def watch() -> None:
        while not await request.is_disconnected():
            await anyio.sleep(POLL_SECONDS)
        token.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        try:
            outcome["value"] = await anyio.to_thread.run_sync(work, token)
        except Exception as exc:  # re-raised below, outside the task group
            outcome["error"] = exc
        group.cancel_scope.cancel()
    error = outcome.get("error")
    if isinstance(error, RoundBusy):
        raise HTTPException(
            409, str(error), headers={"Retry-After": str(error.retry_after)}
        ) from None
    if isinstance(error, ClientGone):
        raise HTTPException(499, str(error)) from None  # nobody is left to read it
    if error is not None:
        raise error
    return outcome["value"]
