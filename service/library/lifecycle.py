"""Getting an index to serve: load the published build, build it when there
is none, rebuild it when it no longer matches the model, the library or the
settings (or refuse, with ``SILKQA_REBUILD_STALE_INDEX=false``). A mismatched
index is never used silently."""

from __future__ import annotations

import logging

from silkqa.index.ingest.corpus import corpus_fingerprint
from silkqa.index.store.build import build_index, staleness
from silkqa.index.store.builds import IndexStore
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.types import BuiltIndex, IndexCorrupt, IndexMissing
from silkqa.service.library.sources import library_sources
from silkqa.service.library.types import IndexUnusable
from silkqa.service.settings import Settings

log = logging.getLogger("silkqa")


def build_and_publish(settings: Settings, embedder: Embedder) -> BuiltIndex:
    """Build and publish an index of the library (``library_sources``),
    reusing the vectors of the live build where it can."""
    store = IndexStore(settings.index_dir)
    with store.lock():
        library = library_sources(store, settings.corpus_dir)
        previous = store.load_reusable()
        built = build_index(library.sources, embedder, settings.index_options(), reuse=previous, library_edited=library.edited)
        store.publish(built)
    log.info(
        "built index: %d documents, %d chunks in %.1fs",
        built.manifest.document_count,
        built.manifest.chunk_count,
        built.manifest.build_seconds,
    )
    return built


def ensure_index(settings: Settings, embedder: Embedder) -> BuiltIndex:
    """The index to serve: the published build when it matches, else a new one."""
    store = IndexStore(settings.index_dir)
    try:
        manifest = store.read_manifest()
    except IndexMissing:
        log.info("no index in %s: building it", settings.index_dir)
        return build_and_publish(settings, embedder)
    except IndexCorrupt as exc:
        reasons = [str(exc)]
    else:
        # An edited library is its own truth; an unedited one follows the corpus.
        fingerprint = corpus_fingerprint(library_sources(store, settings.corpus_dir).sources)
        reasons = staleness(manifest, embedder.identity, settings.index_options(), fingerprint)
        if not reasons:
            try:
                return store.load()
            except IndexCorrupt as exc:
                reasons = [str(exc)]
    if not settings.rebuild_stale_index:
        raise IndexUnusable("the index cannot be used: " + "; ".join(reasons))
    log.warning("rebuilding the index: %s", "; ".join(reasons))
    return build_and_publish(settings, embedder)
