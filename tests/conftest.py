"""Shared fixtures: one real index (real USE model, real FAISS, real BM25) built
once per test session from the bundled corpus, and the real ASGI app over it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.embedding import Embedder
from index.store import IndexStore
from service.api.app import create_app
from service.engine import QAEngine
from service.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"


def read_corpus(doc_id: str) -> str:
    return (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(corpus_dir=CORPUS, index_dir=Path(tmp_path_factory.mktemp("index")))


@pytest.fixture(scope="session")
def engine(settings, embedder) -> QAEngine:
    return QAEngine.open(settings, embedder)


@pytest.fixture(scope="session")
def client(engine):
    with TestClient(create_app(engine=engine)) as c:
        yield c


@pytest.fixture
def engine_copy(settings, engine, embedder, tmp_path) -> QAEngine:
    """An engine of its own, free to change, over a copy of the session index
    (published into a temporary directory: nothing is embedded again)."""
    own = settings.model_copy(update={"index_dir": tmp_path / "index"})
    store = IndexStore(own.index_dir)
    store.publish(engine.index)
    return QAEngine(own, store.load(), embedder)
