"""Runtimes for tests: one of its own over a copy of a library (to change
freely), and asking one a question the way every entry point does, through
its question path."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from silkqa.index.ingest.types import Chunk
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.types import IndexView
from silkqa.service.answering.types import Answer, Question
from silkqa.service.library.lifecycle import ingest, store_of
from silkqa.service.library.live import LiveLibrary
from silkqa.service.retrieval.types import Snapshot
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings


def copy_library(settings: Settings, index_dir: Path, snapshot: Snapshot, embedder: Embedder, **changes) -> Settings:
    """Settings for a copy of ``snapshot``'s library in ``index_dir`` (nothing
    is embedded again): the embedded store's files copied, or for Milvus the
    documents written into collections of their own."""
    own = settings.model_copy(update={"index_dir": index_dir, **changes})
    if own.store == "embedded":
        # The store's files only: the conversations other tests recorded stay theirs.
        shutil.copytree(settings.index_dir, index_dir, ignore=shutil.ignore_patterns(".lock", "conversations.sqlite3*"))
        return own
    own = own.model_copy(update={"milvus_collection_prefix": f"t{uuid.uuid4().hex[:12]}"})
    store = store_of(own)
    with store.lock():
        sources = [d.source for d in snapshot.index.documents.values()]
        ingest(store, own, embedder, sources, None, snapshot.index.known_vectors, library_edited=False)
    return own


def runtime_over(settings: Settings, index_dir: Path, snapshot: Snapshot, embedder: Embedder, **changes) -> Runtime:
    """A runtime of its own over a copy of ``snapshot``'s library in
    ``index_dir``, with ``changes`` to the settings."""
    own = copy_library(settings, index_dir, snapshot, embedder, **changes)
    return Runtime(LiveLibrary(own, store_of(own).open(), embedder))


def chunks_of(view: IndexView, doc_id: str | None = None) -> Iterator[Chunk]:
    """The chunks of one document of ``view``, or of all of them, in order."""
    for doc in [doc_id] if doc_id else list(view.documents):
        for key in view.chunk_keys(doc).tolist():
            yield view.chunk(key)


def ask(runtime: Runtime, question: str, top_k: int = 5, **fields) -> Answer:
    return runtime.pipeline.answer(Question(question, top_k=top_k, **fields))
