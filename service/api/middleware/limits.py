"""Bounds on what one request, or one client, can take from the service: body
size (413), requests in progress (503) and a per-key token-bucket rate (429),
each answered with a problem document before any work is done. Question length
and ``top_k`` are bounded where they are validated (``service.api.checks``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silkqa.service.api.errors import send_problem
from silkqa.service.api.policy import policy
from silkqa.service.api.security import ANONYMOUS


class BodyLimit:
    """413 for a body over the limit: at once when Content-Length says so, and
    as soon as a chunked body passes it otherwise (so an endless body never
    fills memory). Document uploads may carry ``upload_limit`` bytes of file on
    top of the ordinary ``limit`` for their other fields."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int):
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit + (self.upload_limit if policy(scope["method"], scope["path"]).upload else 0)
        too_large = f"the request body exceeds the limit of {limit} bytes"
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return await send_problem(scope, receive, send, 413, "content-too-large", "Content too large", too_large)
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI (and a route reading the stream) turn an HTTPException into the response.
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, limited, send)


class InFlightLimit:
    """At most ``limit`` API requests in progress; the next gets 503 at once
    (shedding load beats queueing until every client times out). Probes and
    metrics are not counted, so they keep answering."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not policy(scope["method"], scope["path"]).api:
            return await self.app(scope, receive, send)
        if self.in_flight >= self.limit:
            detail = f"{self.in_flight} requests are in progress (the limit is {self.limit}); retry shortly"
            return await send_problem(scope, receive, send, 503, "busy", "Service busy", detail, {"Retry-After": "1"})
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


@dataclass
class TokenBucket:
    """``rate`` tokens a second up to ``burst``; a request takes one."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: 0.0 when granted, else the seconds until one is due."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimit:
    """A token bucket per API key (by key name); 429 with Retry-After when empty.
    An open API (no keys) has no one to tell apart, so it is not rate-limited."""

    def __init__(self, app: ASGIApp, rate: float, burst: int, on_limited: Callable[[str], None]):
        self.app = app
        self.rate = rate
        self.burst = burst
        self.on_limited = on_limited
        self.buckets: dict[str, TokenBucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal") if scope["type"] == "http" else None
        if self.rate <= 0 or principal is None or principal is ANONYMOUS:
            return await self.app(scope, receive, send)
        now = time.monotonic()
        bucket = self.buckets.setdefault(principal.name, TokenBucket(self.rate, self.burst, self.burst, now))
        wait = bucket.take(now)
        if wait:
            self.on_limited(principal.name)
            detail = f"key {principal.name!r} may make {self.rate:g} requests a second (bursts of {self.burst})"
            headers = {"Retry-After": str(math.ceil(wait))}
            return await send_problem(scope, receive, send, 429, "rate-limited", "Too many requests", detail, headers)
        await self.app(scope, receive, send)
