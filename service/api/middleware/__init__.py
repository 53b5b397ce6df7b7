"""Everything a platform team needs around the routes, wired in one place and
in one order: request ids, metrics and access logs; the headers every response
gets; API keys and roles; the per-key rate limit; reading the body (within its
size and time limits); the in-flight limit; the worker slots for CPU-bound
requests; the OpenAPI additions (and the 405 Allow header that follows them). What applies to which request is the route table's
(``service.api.policy``)."""

from __future__ import annotations

from fastapi import FastAPI

from silkqa.service.api import openapi
from silkqa.service.api.metrics import Metrics
from silkqa.service.api.middleware.allow import AllowHeader
from silkqa.service.api.middleware.auth import Authenticate
from silkqa.service.api.middleware.headers import SecurityHeaders
from silkqa.service.api.middleware.limits import InFlightLimit, RateLimit, ReadBody, rate_storage
from silkqa.service.api.middleware.observe import ObserveRequests
from silkqa.service.api.middleware.workers import WorkerSlots
from silkqa.service.api.security import KeyRing, warn_if_open
from silkqa.service.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Raises KeyConfigError for unusable key settings, so a misconfigured
    server refuses to start instead of running open."""
    keyring = KeyRing.from_settings(settings)
    warn_if_open(keyring)
    metrics = Metrics(lambda: runtime.library.current() if (runtime := getattr(app.state, "runtime", None)) else None)
    app.state.metrics = metrics
    # add_middleware wraps what was added before, so this list runs bottom-up:
    # a request meets ObserveRequests first (so refusals are counted and logged),
    # counts as in flight only once its body has arrived, and reaches a worker
    # slot only once it is authenticated and within limits.
    app.add_middleware(WorkerSlots, slots=settings.cpu_workers, on_wait=metrics.observe_queue_wait)
    app.add_middleware(InFlightLimit, limit=settings.max_in_flight, queue_seconds=settings.in_flight_wait_seconds)
    app.add_middleware(ReadBody, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    app.add_middleware(
        RateLimit,
        rate=settings.rate_limit_per_second,
        burst=settings.rate_limit_burst,
        storage=rate_storage(settings.redis_url.get_secret_value() if settings.redis_url else None),
        on_limited=metrics.observe_rate_limited,
    )
    app.add_middleware(Authenticate, keyring=keyring)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ObserveRequests, metrics=metrics, log_questions=settings.log_questions)
    app.add_middleware(AllowHeader)
    openapi.install(app, settings)
