"""The live library: the snapshot requests read, and the one place a new
published state is swapped in (by an update in this process, by its
background upkeep, or by ``BuildFollower`` for one another process published)."""

from __future__ import annotations

import logging
import threading

from silkqa.index.store.embedding import Embedder
from silkqa.index.store.types import IndexCorrupt, IndexView, LibraryStore
from silkqa.service.library.lifecycle import ensure_index, store_of
from silkqa.service.retrieval.retriever import open_snapshot
from silkqa.service.retrieval.types import Snapshot
from silkqa.service.settings import Settings

log = logging.getLogger("silkqa")


class LiveLibrary:
    def __init__(self, settings: Settings, index: IndexView, embedder: Embedder, store: LibraryStore | None = None):
        self.settings = settings
        self.embedder = embedder
        self.store = store or store_of(settings)
        # Serialises library updates in this process; readers never take it.
        self.update_lock = threading.Lock()
        self._snapshot = open_snapshot(index, embedder, settings.fusion_weights())
        self._upkeep: threading.Thread | None = None

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> LiveLibrary:
        """The library in the configured store, built or rebuilt first when it must be."""
        embedder = embedder or Embedder(settings.embedding_model, threads=settings.embed_threads, backend=settings.embed_backend)
        store = store_of(settings)
        live = cls(settings, ensure_index(settings, embedder, store=store), embedder, store)
        live.current().retriever.find("warm-up 预热", 1)  # loads jieba's dictionary now, not in the first request (~1 s)
        return live

    def current(self) -> Snapshot:
        """The snapshot to serve a request from; take it once per request."""
        return self._snapshot

    def swap(self, index: IndexView) -> Snapshot:
        """Serve ``index`` from now on; requests in flight finish on the old one."""
        snapshot = open_snapshot(index, self.embedder, self.settings.fusion_weights())
        self._snapshot = snapshot  # one reference assignment: atomic for readers
        return snapshot

    def follow_published(self) -> bool:
        """Swap in the state the store has published, if it is not the one
        served (another process, or upkeep, published it); whether it did.
        Raises IndexCorrupt when that state cannot be read."""
        current = self.store.current_id()
        if current is None or current == self._snapshot.build_id:
            return False
        self.swap(self.store.open())
        return True

    def upkeep_in_background(self) -> None:
        """Merge segments (when the store wants to) off the request and update
        paths; the merged state is swapped in when it is published."""
        if self._upkeep is not None and self._upkeep.is_alive():
            return
        self._upkeep = threading.Thread(target=self._run_upkeep, name="silkqa-store-upkeep", daemon=True)
        self._upkeep.start()

    def _run_upkeep(self) -> None:
        try:
            while self.store.maintain():
                with self.update_lock:
                    self.follow_published()
        except (OSError, IndexCorrupt) as exc:  # a full disk, say: the library stays as it was
            log.warning("store upkeep failed: %s", exc)

    def wait_for_upkeep(self, timeout: float | None = None) -> None:
        if self._upkeep is not None:
            self._upkeep.join(timeout)
