"""The FastAPI application: routes per resource, the middleware around them,
and the runtime they serve."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from silkqa.service.api import errors, middleware
from silkqa.service.api.routes import apidocs, ask, chat, conversations, documents, feedback, ops, ui
from silkqa.service.library.follower import BuildFollower
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """An app serving ``runtime``, or one opened from ``settings`` at start-up."""
    settings = settings or (runtime.settings if runtime else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.runtime is None:
            app.state.runtime = Runtime.open(settings)
        # Builds published by `silkqa add`/`remove` from another process go live here too.
        follower = BuildFollower(app.state.runtime.library, settings.index_poll_seconds).start()
        yield
        follower.stop()

    app = FastAPI(
        title="silkqa",
        version="0.1.0",
        summary="Question answering over policy documents with exact-span citations.",
        lifespan=lifespan,
        # Served from the package by routes.apidocs (FastAPI's own pages load Swagger UI and ReDoc from a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    errors.install(app)
    middleware.install(app, settings)  # keys, limits, worker slots, metrics, logs, the OpenAPI additions
    for routes in (ask, chat, conversations, feedback, documents, ops, ui, apidocs):
        app.include_router(routes.router)
    return app
