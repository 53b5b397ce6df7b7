"""Following builds another process published: ``silkqa add`` or ``remove``
next to a running server publishes a build, and the server switches to it."""

from __future__ import annotations

import logging
import threading

from silkqa.index.store.types import IndexCorrupt
from silkqa.service.library.live import LiveLibrary

log = logging.getLogger("silkqa")


class BuildFollower:
    """Checks every ``interval`` seconds whether another process published a
    build and switches the live library to it. An unreadable build is logged
    and the current one kept serving."""

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
        """Swap in the published build if it is not the one served; whether it did."""
        current = self.live.store.current_build()
        if current is None or current.name == self.live.current().build_id:
            return False
        # An update in this process is publishing: it swaps its own build in.
        if not self.live.update_lock.acquire(blocking=False):
            return False
        try:
            switched = self.live.follow_published()
        except IndexCorrupt as exc:
            log.warning("not switching to build %s: %s", current.name, exc)
            return False
        finally:
            self.live.update_lock.release()
        if switched:
            log.info("switched to build %s published by another process", self.live.current().build_id)
        return switched

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
