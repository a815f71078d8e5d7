"""Writes run in a worker thread, never on the event loop.

Health checks and reads keep answering while a write parses, imports or waits for its
round's lock. A write that cannot take the lock within WRITE_LOCK_TIMEOUT answers 409
with Retry-After; a client that disconnects before the commit has its database work
cancelled and rolled back (its Idempotency-Key makes the retry safe).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import Request

from app.ingest.cancel import CancelToken

T = TypeVar("T")
POLL_SECONDS = 0.2

# A worker thread parsing a large upload holds the interpreter for the default 5 ms at a
# time, and the event loop answering health checks and reads waits behind every slice:
# with 1 ms slices, /healthz during a 1M-row upload has a p99 of 97 ms instead of 430 ms
# (BENCHMARKS.md). Reads alone run best on the default: 1 ms slices cost a worker
# serving new statistics pages 15% of its rate (bench/server_cpu.py). So slices are short
# only while a write runs.
WRITING_SWITCH_INTERVAL = 0.001


class _ShortSlices:
    """Lowers the interpreter's switch interval while at least one write runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writes = 0
        self._before = sys.getswitchinterval()

    def __enter__(self) -> None:
        with self._lock:
            if self._writes == 0:
                self._before = sys.getswitchinterval()
                sys.setswitchinterval(WRITING_SWITCH_INTERVAL)
            self._writes += 1

    def __exit__(self, *_) -> None:
        with self._lock:
            self._writes -= 1
            if self._writes == 0:
                sys.setswitchinterval(self._before)


short_slices = _ShortSlices()


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
            with short_slices:
                outcome["value"] = await anyio.to_thread.run_sync(work, token)
        except Exception as exc:  # re-raised below, outside the task group
            outcome["error"] = exc
        group.cancel_scope.cancel()
    error = outcome.get("error")
    if error is not None:
        # the project's own errors carry their status (RoundBusy: 409 with Retry-After,
        # ClientGone: 499), rendered by app.api.errors as every other problem
        raise error
    return outcome["value"]
