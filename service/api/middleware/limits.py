"""Bounds on what one request, or one client, can take from the service: the
body's size (413) and the time to send it (408), requests in progress (503)
and a per-key rate (429), each answered with a problem document before any
work is done. Question length, history and ``top_k`` are bounded where they
are validated (``service.api.checks``)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import anyio
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silkqa.service.api.errors import send_problem
from silkqa.service.api.policy import policy
from silkqa.service.api.security import ANONYMOUS

log = logging.getLogger("silkqa.api")


class ReadBody:
    """Reads the whole request body first, within the route's ``body_seconds``
    (408 after it) and its size limit (413: at once when Content-Length says
    so, else as soon as the body passes it, so an endless body never fills
    memory), then hands it to the rest of the app. Only a request whose body
    has arrived counts as in flight or waits for a worker slot: a client that
    trickles its body ties up neither. Document uploads may carry
    ``upload_limit`` bytes of file on top of the ordinary ``limit``."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int):
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rules = policy(scope["method"], scope["path"])
        limit = self.limit + (self.upload_limit if rules.upload else 0)
        too_large = f"the request body exceeds the limit of {limit} bytes"
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return await send_problem(scope, receive, send, 413, "content-too-large", "Content too large", too_large)
        body = bytearray()
        with anyio.move_on_after(rules.body_seconds) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    scope["state"]["client_gone"] = True  # the access log says 499, not a server error
                    return
                body.extend(message.get("body", b""))
                if len(body) > limit:
                    return await send_problem(scope, receive, send, 413, "content-too-large", "Content too large", too_large)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            detail = f"the request body did not arrive within {rules.body_seconds:g} seconds"
            headers = {"Connection": "close"}
            return await send_problem(scope, receive, send, 408, "request-timeout", "Request timeout", detail, headers)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: the disconnect a streaming response listens for
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


class InFlightLimit:
    """At most ``limit`` API requests in progress. One over it waits up to
    ``queue_seconds`` (without a thread, without CPU) for a request to finish,
    then gets 503 with Retry-After: shedding load beats queueing until every
    client times out, and the short wait keeps clients that retry at once
    from spinning the server on refusals instead of answers. Probes and
    metrics are not counted, so they keep answering."""

    def __init__(self, app: ASGIApp, limit: int, queue_seconds: float):
        self.app = app
        self.limit = limit
        self.queue_seconds = queue_seconds
        self.in_flight = 0
        self._freed = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not policy(scope["method"], scope["path"]).api:
            return await self.app(scope, receive, send)
        if self.in_flight >= self.limit:
            with anyio.move_on_after(self.queue_seconds):
                while self.in_flight >= self.limit:
                    await self._freed.wait()
        if self.in_flight >= self.limit:
            detail = f"{self.in_flight} requests are in progress (the limit is {self.limit}); retry shortly"
            return await send_problem(scope, receive, send, 503, "busy", "Service busy", detail, {"Retry-After": "1"})
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._freed.set()  # wakes the waiters; the first to run takes the place
            self._freed = anyio.Event()


def rate_item(rate: float, burst: int) -> RateLimitItem:
    """``rate`` requests a second in bursts of ``burst``, as a moving window:
    at most about ``burst`` requests in any ``burst / rate`` seconds (whole
    seconds, the window's unit)."""
    window = max(1, math.ceil(burst / rate))
    return RateLimitItemPerSecond(max(1, round(rate * window)), window, namespace="silkqa")


def rate_storage(redis_url: str | None) -> Storage:
    """Counts in this process, or in Redis so that every replica sharing it
    enforces one rate per key."""
    if redis_url:
        # redis-py's asyncio client (coredis, the library's default, pins an old `packaging`);
        # short timeouts, so a Redis that stops answering costs a request 0.5 s, not minutes.
        return RedisStorage(
            f"async+{redis_url}",
            implementation="redispy",
            wrap_exceptions=True,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
        )
    return MemoryStorage()


class RateLimit:
    """A moving-window rate per API key (by key name), through the `limits`
    library; 429 with Retry-After when the window is full. An open API (no
    keys) has no one to tell apart, so it is not rate-limited. If the shared
    storage is unreachable the request is let through (and logged): the rate
    limit protects the service, it must not take it down."""

    def __init__(self, app: ASGIApp, rate: float, burst: int, storage: Storage, on_limited: Callable[[], None]):
        self.app = app
        self.rate = rate
        self.burst = burst
        self.item = rate_item(rate, burst) if rate > 0 else None
        self.limiter = MovingWindowRateLimiter(storage)
        self.on_limited = on_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal") if scope["type"] == "http" else None
        if self.item is None or principal is None or principal is ANONYMOUS:
            return await self.app(scope, receive, send)
        try:
            allowed = await self.limiter.hit(self.item, principal.name)
            wait = 0.0 if allowed else (await self.limiter.get_window_stats(self.item, principal.name)).reset_time - time.time()
        except StorageError as exc:
            log.warning("rate limit storage unavailable, request let through: %s", exc)
            allowed = True
        if not allowed:
            self.on_limited()
            detail = f"key {principal.name!r} may make {self.rate:g} requests a second (bursts of {self.burst})"
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return await send_problem(scope, receive, send, 429, "rate-limited", "Too many requests", detail, headers)
        await self.app(scope, receive, send)
