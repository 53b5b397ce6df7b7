"""Getting an index to serve: open the published library, build it when there
is none, rebuild it when it no longer matches the model, the library or the
settings (or refuse, with ``SILKQA_REBUILD_STALE_INDEX=false``). A mismatched
index is never used silently."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import numpy as np

from silkqa.index.ingest.corpus import corpus_fingerprint, fingerprint_changed
from silkqa.index.ingest.types import SourceDocument
from silkqa.index.store.build import KnownVectors, Progress, new_manifest, prepare_many, staleness
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.stores import open_store
from silkqa.index.store.types import IndexCorrupt, IndexMissing, IndexView, LibraryStore, Staged
from silkqa.service.library.sources import corpus_fingerprint_of, library_sources
from silkqa.service.library.types import IndexUnusable
from silkqa.service.settings import Settings

log = logging.getLogger("silkqa")


def store_of(settings: Settings) -> LibraryStore:
    return open_store(settings.index_dir, settings.store_options(), settings.index_options())


def reusable(store: LibraryStore, embedder: Embedder) -> KnownVectors | None:
    """Vectors this model made that the store holds, to reuse instead of embedding again."""
    return store.reusable(embedder.identity)


def ingest(
    store: LibraryStore,
    settings: Settings,
    embedder: Embedder,
    sources: Iterable[SourceDocument],
    base: IndexView | None,
    known: KnownVectors | None,
    library_edited: bool,
    progress: Progress | None = None,
    publish_each_batch: bool = False,
    until: Callable[[], bool] | None = None,
) -> IndexView:
    """``sources`` prepared in batches (across worker processes when there are
    many), staged, and published in one commit on top of ``base`` (None: a
    new library of ``sources`` only), or with ``publish_each_batch`` one
    commit per batch, so a long ingest that stops keeps what it did; it stops
    after the first batch for which ``until()`` is true. Call under
    ``store.lock()``."""
    started = time.perf_counter()
    options = settings.store_options()
    staged: list[Staged] = []
    included: list[SourceDocument] = []
    embedded_units = embedded_chunks = 0
    batches = prepare_many(
        sources,
        embedder,
        settings.index_options(),
        known or nothing_known,
        options.segment_chunks,
        options.ingest_workers,
        options.embed_threads,
        progress,
    )
    view = base
    for batch in batches:
        staged.append(store.stage(batch))
        included.extend(SourceDocument(d.document.meta, d.body.raw) for d in batch)
        embedded_units += sum(d.embedded_units for d in batch)
        embedded_chunks += sum(d.embedded_chunks for d in batch)
        if publish_each_batch:
            view = _publish(
                store, settings, embedder, view, staged, included, library_edited, started, embedded_units, embedded_chunks
            )
            staged, included, embedded_units, embedded_chunks = [], [], 0, 0
        if until is not None and until():
            batches.close()  # stops the worker processes
            break
    if staged or view is None:
        view = _publish(
            store, settings, embedder, view, staged, included, library_edited, started, embedded_units, embedded_chunks
        )
    return view


def _publish(
    store: LibraryStore,
    settings: Settings,
    embedder: Embedder,
    base: IndexView | None,
    staged: list[Staged],
    sources: list[SourceDocument],
    library_edited: bool,
    started: float,
    embedded_units: int,
    embedded_chunks: int,
) -> IndexView:
    if base is None:
        fingerprint = corpus_fingerprint(sources)
    else:
        replaced = tuple(base.documents[s.meta.doc_id].fingerprint for s in sources if s.meta.doc_id in base.documents)
        fingerprint = fingerprint_changed(base.manifest.corpus_fingerprint, [s.fingerprint for s in sources], replaced)
    manifest = new_manifest(
        embedder.identity,
        settings.index_options(),
        fingerprint,
        library_edited,
        datetime.now(UTC).isoformat(timespec="seconds"),
        embedded_units=embedded_units,
        embedded_chunks=embedded_chunks,
        build_seconds=round(time.perf_counter() - started, 2),
    )
    return store.commit(base, staged, set(), manifest)


def nothing_known(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(len(hashes), bool), np.zeros((len(hashes), 0), np.float32)


def build_and_publish(
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
    unless_published: bool = False,
    store: LibraryStore | None = None,
) -> IndexView:
    """Build and publish an index of the library (``library_sources``),
    reusing the vectors of the published library where it can. With
    ``unless_published``, a library another process published while this one
    waited for the lock is opened instead (replicas starting together on one
    Milvus seed it once)."""
    store = store or store_of(settings)
    with store.lock():
        if unless_published and store.exists():
            return store.open()
        library = library_sources(store, settings.corpus_dir)
        built = ingest(store, settings, embedder, library.sources, None, reusable(store, embedder), library.edited, progress)
    m = built.manifest
    log.info("built index: %d documents, %d chunks in %.1fs", m.document_count, m.chunk_count, m.build_seconds)
    return built


def ensure_index(
    settings: Settings, embedder: Embedder, progress: Progress | None = None, store: LibraryStore | None = None
) -> IndexView:
    """The index to serve: the published library when it matches, else a new
    one. Give the ``store`` that will serve it: an embedded store keeps the
    segments it opened, and an update reuses them instead of reading each again."""
    store = store or store_of(settings)
    try:
        manifest = store.read_manifest()
    except IndexMissing:
        log.info("no index in %s: building it", settings.index_dir)
        return build_and_publish(settings, embedder, progress, unless_published=True, store=store)
    except IndexCorrupt as exc:
        reasons = [str(exc)]
    else:
        # An edited library is its own truth; an unedited one follows the corpus.
        fingerprint = None if manifest.library_edited else corpus_fingerprint_of(settings.corpus_dir)
        reasons = staleness(manifest, embedder.identity, settings.index_options(), fingerprint)
        if not reasons:
            try:
                return store.open()
            except IndexCorrupt as exc:
                reasons = [str(exc)]
    if not settings.rebuild_stale_index:
        raise IndexUnusable("the index cannot be used: " + "; ".join(reasons))
    log.warning("rebuilding the index: %s", "; ".join(reasons))
    return build_and_publish(settings, embedder, progress, store=store)
