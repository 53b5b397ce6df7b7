"""The live library: the snapshot requests read, and the one place a new
build is swapped in (by an update in this process, or by ``BuildFollower``
for a build another process published)."""

from __future__ import annotations

import threading

from silkqa.index.store.builds import IndexStore
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.types import BuiltIndex
from silkqa.service.library.lifecycle import ensure_index
from silkqa.service.retrieval.retriever import open_snapshot
from silkqa.service.retrieval.types import Snapshot
from silkqa.service.settings import Settings


class LiveLibrary:
    def __init__(self, settings: Settings, index: BuiltIndex, embedder: Embedder):
        self.settings = settings
        self.embedder = embedder
        self.store = IndexStore(settings.index_dir)
        # Serialises library updates in this process; readers never take it.
        self.update_lock = threading.Lock()
        self._snapshot = open_snapshot(index, embedder, settings.fusion_weights())

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> LiveLibrary:
        """The library in ``settings.index_dir``, built or rebuilt first when it must be."""
        embedder = embedder or Embedder(settings.embedding_model)
        live = cls(settings, ensure_index(settings, embedder), embedder)
        live.current().retriever.find("warm-up 预热", 1)  # loads jieba's dictionary now, not in the first request (~1 s)
        return live

    def current(self) -> Snapshot:
        """The snapshot to serve a request from; take it once per request."""
        return self._snapshot

    def swap(self, index: BuiltIndex) -> Snapshot:
        """Serve ``index`` from now on; requests in flight finish on the old one."""
        snapshot = open_snapshot(index, self.embedder, self.settings.fusion_weights())
        self._snapshot = snapshot  # one reference assignment: atomic for readers
        return snapshot

    def follow_published(self) -> bool:
        """Swap in the build the store's pointer names, if it is not the one
        served (another process published it); whether it did. Raises
        IndexCorrupt when that build cannot be read."""
        current = self.store.current_build()
        if current is None or current.name == self._snapshot.build_id:
            return False
        self.swap(self.store.load())
        return True
