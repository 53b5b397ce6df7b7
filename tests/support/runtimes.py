"""Runtimes for tests: one of its own over a copy of a build (to change
freely), and asking one a question the way every entry point does, through
its question path."""

from __future__ import annotations

from pathlib import Path

from silkqa.index.store.builds import IndexStore
from silkqa.index.store.embedding import Embedder
from silkqa.service.answering.types import Answer, Question
from silkqa.service.library.live import LiveLibrary
from silkqa.service.retrieval.types import Snapshot
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings


def runtime_over(settings: Settings, index_dir: Path, snapshot: Snapshot, embedder: Embedder, **changes) -> Runtime:
    """A runtime of its own over a copy of ``snapshot``'s build, published into
    ``index_dir`` (nothing is embedded again), with ``changes`` to the settings."""
    own = settings.model_copy(update={"index_dir": index_dir, **changes})
    store = IndexStore(own.index_dir)
    store.publish(snapshot.index)
    return Runtime(LiveLibrary(own, store.load(), embedder))


def ask(runtime: Runtime, question: str, top_k: int = 5, **fields) -> Answer:
    return runtime.pipeline.answer(Question(question, top_k=top_k, **fields))
