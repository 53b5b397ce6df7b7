"""The store backends, chosen by name (``SILKQA_STORE``): ``embedded`` (FAISS
and BM25 segments on local disk) or ``milvus`` (Milvus Lite or a Milvus
server). Both implement ``types.LibraryStore``; nothing above this module
knows which one it talks to."""

from __future__ import annotations

from pathlib import Path

from silkqa.index.store.types import IndexOptions, LibraryStore, StoreOptions


def open_store(index_dir: Path, options: StoreOptions, index_options: IndexOptions) -> LibraryStore:
    """The configured store. ``index_dir`` holds the embedded store, and for
    Milvus the lock file that serialises writers (replicas share it)."""
    if options.backend == "milvus":
        from silkqa.index.store.milvus import MilvusStore  # pymilvus loads only when asked for

        return MilvusStore(index_dir, options, index_options)
    from silkqa.index.store.embedded import EmbeddedStore

    return EmbeddedStore(index_dir, options, index_options)
