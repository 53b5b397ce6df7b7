"""Following states another process published: ``silkqa add`` or ``remove``
next to a running server (or another replica on the same Milvus) publishes,
and the server switches to it."""

from __future__ import annotations

import logging
import threading

from silkqa.index.store.types import IndexCorrupt
from silkqa.service.library.live import LiveLibrary

log = logging.getLogger("silkqa")


class BuildFollower:
    """Checks every ``interval`` seconds whether another process published a
    new state of the library and switches the live library to it. An
    unreadable one is logged and the current one kept serving."""

    def __init__(self, live: LiveLibrary, interval: float):
        self.live = live
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="silkqa-build-follower", daemon=True)

    def start(self) -> BuildFollower:
        if self.interval > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def poll(self) -> bool:
        """Swap in the published state if it is not the one served; whether it did."""
        try:
            current = self.live.store.current_id()
        except OSError as exc:  # Milvus unreachable for a moment: keep serving what we have
            log.warning("cannot ask the store for its published state: %s", exc)
            return False
        if current is None or current == self.live.current().build_id:
            return False
        # An update in this process is publishing: it swaps its own state in.
        if not self.live.update_lock.acquire(blocking=False):
            return False
        try:
            switched = self.live.follow_published()
        except IndexCorrupt as exc:
            log.warning("not switching to %s: %s", current, exc)
            return False
        finally:
            self.live.update_lock.release()
        if switched:
            log.info("switched to %s published by another process", self.live.current().build_id)
        return switched

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
