"""A bounded grading queue: past `limit` grade requests in flight, new ones get 503 at once.

Grading is serialised on the model, so every request past the first waits; without a bound a
flood of long answers makes every client wait without limit (the issue measured 20 s for a grade
that takes 32 ms). Refusing early with `Retry-After` keeps the wait of admitted requests short.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

RETRY_AFTER = "2"  # seconds; a queue of a few dozen grades drains in about that


class QueueFull(Exception):
    pass


class GradingQueue:
    """Counts grade requests admitted and not finished (running or waiting for the model)."""

    def __init__(self, limit: int, on_change: Callable[[int], None] | None = None) -> None:
        self.limit = limit
        self.depth = 0
        self._lock = threading.Lock()
        self._on_change = on_change

    def acquire(self) -> None:
        """Take a place; raises QueueFull when `limit` are already taken."""
        with self._lock:
            if self.depth >= self.limit:
                raise QueueFull
            self.depth += 1
            self._changed()

    def release(self) -> None:
        with self._lock:
            self.depth -= 1
            self._changed()

    @contextmanager
    def slot(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.depth)


async def grading_slot(request: Request) -> AsyncIterator[None]:
    """A place in the app's grading queue for the duration of the request, or 503. Async: a
    counter under a lock needs no worker thread (FastAPI runs a plain generator in one)."""
    queue: GradingQueue | None = getattr(request.app.state, "grading_queue", None)
    if queue is None:
        yield
        return
    try:
        queue.acquire()
    except QueueFull:
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.queue_rejected.inc()
        raise HTTPException(
            503,
            f"{queue.limit} grade requests are already in the queue (VIVA_MAX_QUEUED_GRADES); "
            f"retry in {RETRY_AFTER} s",
            headers={"Retry-After": RETRY_AFTER},
        ) from None
    try:
        yield
    finally:
        queue.release()


def _slot_dependency() -> Any:
    """The slot ends when the route returns, not after the response is sent (FastAPI's default
    for a dependency that yields): a client's next request may arrive before that, and 32
    clients then met spurious 503s from a queue of 32 (bench/bench_api.py)."""
    try:
        return Depends(grading_slot, scope="function")
    except TypeError:  # pragma: no cover - FastAPI before 0.121 has no scope: after the response
        return Depends(grading_slot)


GradingSlot = Annotated[None, _slot_dependency()]
