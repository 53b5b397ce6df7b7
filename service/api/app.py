"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api import errors, routes
from service.engine import QAEngine
from service.settings import Settings


def create_app(settings: Settings | None = None, engine: QAEngine | None = None) -> FastAPI:
    """An app serving ``engine``, or one opened from ``settings`` at start-up."""
    settings = settings or (engine.settings if engine else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "engine", None) is None:
            app.state.engine = QAEngine.open(settings)
        yield

    app = FastAPI(
        title="silkqa",
        version="0.1.0",
        summary="Question answering over policy documents with exact-span citations.",
        lifespan=lifespan,
    )
    app.state.engine = engine
    errors.install(app)
    app.include_router(routes.router)
    return app
