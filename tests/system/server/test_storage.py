"""The data directory on a real small or read-only file system (a tmpfs
mounted by the test; skipped where mounting is not allowed): with room for
little room, updates keep working: a staging directory a crashed writer
left behind is removed before the next update needs its room, and the kept
earlier generation's own segments make room when the disk is full. On a read-only file system an
update is a clear 507, not a 500."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from silkqa.index.store.embedded import EmbeddedStore
from silkqa.service.api.app import create_app
from tests.support.makedocs import LANMEI
from tests.support.runtimes import runtime_over

pytestmark = pytest.mark.slow


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@contextmanager
def tmpfs(path: Path, size_bytes: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _fill(disk: Path, path: Path, leave: int) -> None:
    """Write ``path`` as large as leaves ``leave`` bytes free on ``disk``."""
    stats = os.statvfs(disk)
    path.write_bytes(b"\0" * max(stats.f_bavail * stats.f_frsize - leave, 0))


def _update(http: TestClient, n: int, appendix: str = "") -> None:
    text = LANMEI.replace("12个", f"{12 + n}个") + appendix
    r = (
        http.put("/v1/documents/lanmei", json={"text": text})
        if n
        else http.post("/v1/documents", json={"text": text, "doc_id": "lanmei"})
    )
    assert r.status_code in (200, 201), r.text
    answer = http.post("/v1/ask", json={"question": "澜湄流域要共建多少个水质自动监测站？"}).json()
    assert f"{12 + n}个水质自动监测站" in answer["citations"][0]["quote"]


def test_on_a_full_disk_updates_keep_working(settings, snapshot, embedder, tmp_path):
    if settings.store != "embedded":
        pytest.skip("the embedded store's own files")
    probe = runtime_over(settings, tmp_path / "probe", snapshot, embedder)
    library = _size(probe.library.store.root)
    with tmpfs(tmp_path / "small", library * 3) as disk:
        runtime = runtime_over(settings, disk / "index", snapshot, embedder)
        store = runtime.library.store
        assert isinstance(store, EmbeddedStore)
        # What a writer killed mid-segment leaves: a staging directory taking
        # every byte the disk has left, which the first update needs.
        crashed = store.segments / ".tmp-99999999-crashed"
        crashed.mkdir()
        _fill(disk, crashed / "vectors.npy", leave=4096)
        with TestClient(create_app(runtime=runtime)) as http:
            # The first version is long (a schedule of 300 training courses).
            _update(
                http, 0, "\n三、培训安排\n" + "\n".join(f"第{i}期农技培训班于{i % 12 + 1}月在流域内举办。" for i in range(300))
            )
            assert not crashed.exists()
            _update(http, 1)
            # The earlier generation, kept for readers still on it, holds the
            # only reference to the long first version's segment: the disk has
            # room for the third version only once that is dropped.
            _fill(disk, disk / "filler", leave=4096)
            _update(http, 2)
        assert len(list(store.generations.glob("*.manifest.json"))) == 2
        assert store.open().manifest.document_count == 6 and not list(store.segments.glob(".tmp-*"))


def test_a_read_only_data_directory_is_a_507_not_a_500(settings, snapshot, embedder, tmp_path):
    with tmpfs(tmp_path / "ro", 64 << 20) as disk:
        runtime = runtime_over(settings, disk / "index", snapshot, embedder)
        _mount("-o", "remount,ro", str(disk))
        with TestClient(create_app(runtime=runtime)) as http:
            r = http.post("/v1/documents", json={"text": LANMEI, "doc_id": "lanmei"})
            assert r.status_code == 507, r.text
            problem = r.json()
            assert "Read-only file system" in problem["detail"] and "nothing was changed" in problem["detail"]
            assert len(http.get("/v1/documents").json()["documents"]) == 5
