"""Shared fixtures: one real library (real USE model, real FAISS, real BM25)
built once per test session from the bundled corpus, the runtime over it, and
the real ASGI app serving that runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from silkqa.index.store.embedding import Embedder
from silkqa.service.api.app import create_app
from silkqa.service.library.live import LiveLibrary
from silkqa.service.retrieval.types import Snapshot
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings
from tests.support.paths import CORPUS
from tests.support.runtimes import runtime_over


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(corpus_dir=CORPUS, index_dir=Path(tmp_path_factory.mktemp("index")))


@pytest.fixture(scope="session")
def runtime(settings, embedder) -> Runtime:
    """The session's runtime. Tests never change its library: those that
    update documents take a ``runtime_copy``."""
    return Runtime(LiveLibrary.open(settings, embedder))


@pytest.fixture(scope="session")
def snapshot(runtime) -> Snapshot:
    return runtime.library.current()


@pytest.fixture(scope="session")
def client(runtime):
    with TestClient(create_app(runtime=runtime)) as c:
        yield c


@pytest.fixture
def runtime_copy(settings, snapshot, embedder, tmp_path) -> Runtime:
    """A runtime of its own, free to change, over a copy of the session index."""
    return runtime_over(settings, tmp_path / "index", snapshot, embedder)
