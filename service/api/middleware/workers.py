"""The bounded worker pool for CPU-bound requests.

Embedding, search, answer composition and indexing run in worker threads (the
routes are plain ``def``, which FastAPI runs off the event loop). Left alone,
every concurrent request would get a thread and they would all share two cores,
so each one slows down together with ``/healthz``. Here a request that does
such work (``cpu_bound`` in the route table) first waits, asynchronously
and without holding a thread, for one of ``SILKQA_CPU_WORKERS`` slots. The event
loop and the cheap routes stay responsive; the wait is measured in
``silkqa_worker_queue_seconds``."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from silkqa.service.api.policy import policy


class WorkerSlots:
    def __init__(self, app: ASGIApp, slots: int, on_wait: Callable[[float], None]):
        self.app = app
        self.slots = anyio.Semaphore(slots)
        self.on_wait = on_wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not policy(scope["method"], scope["path"]).cpu_bound:
            return await self.app(scope, receive, send)
        queued = time.perf_counter()
        async with self.slots:
            self.on_wait(time.perf_counter() - queued)
            await self.app(scope, receive, send)
