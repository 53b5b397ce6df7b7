"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api import errors, ops, routes, routes_chat, routes_documents, routes_ui
from service.engine import QAEngine
from service.generation import Generator, open_generator
from service.settings import Settings
from service.updates import BuildFollower


def create_app(
    settings: Settings | None = None, engine: QAEngine | None = None, generator: Generator | None = None
) -> FastAPI:
    """An app serving ``engine``, or one opened from ``settings`` at start-up;
    likewise the LLM ``generator`` (SILKQA_LLM_BACKEND), loaded at start-up."""
    settings = settings or (engine.settings if engine else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "engine", None) is None:
            app.state.engine = QAEngine.open(settings)
        if app.state.generator is None:
            app.state.generator = open_generator(settings)
        # Builds published by `silkqa add`/`remove` from another process go live here too.
        follower = BuildFollower(app.state.engine, settings.index_poll_seconds).start()
        yield
        follower.stop()

    app = FastAPI(
        title="silkqa",
        version="0.1.0",
        summary="Question answering over policy documents with exact-span citations.",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.generator = generator
    errors.install(app)
    ops.install(app, settings)  # keys, limits, worker slots, metrics, logs, probes
    app.include_router(routes.router)
    app.include_router(routes_chat.router)
    app.include_router(routes_documents.router)
    app.include_router(routes_ui.router)
    return app
