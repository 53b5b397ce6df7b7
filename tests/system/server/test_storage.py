"""The data directory on a real small or read-only file system (a tmpfs
mounted by the test; skipped where mounting is not allowed): with room for
only two builds, updates keep working: a staging directory a crashed build
left behind is removed before the next build needs its room, and the kept
earlier build makes room when the disk is full. On a read-only file system an
update is a clear 507, not a 500."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from silkqa.index.store.builds import IndexStore
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


def test_with_room_for_two_builds_updates_keep_working(settings, snapshot, embedder, tmp_path):
    probe = runtime_over(settings, tmp_path / "probe", snapshot, embedder)
    build = _size(probe.library.store.current_build())
    with tmpfs(tmp_path / "small", int(build * 2.6)) as disk:
        runtime = runtime_over(settings, disk / "index", snapshot, embedder)
        store = IndexStore(disk / "index")
        # What a build killed mid-write leaves: a staging directory as large as a build.
        crashed = store.builds / ".tmp-20240101T000000000000-crashed"
        crashed.mkdir()
        (crashed / "units.npz").write_bytes(b"\0" * build)
        with TestClient(create_app(runtime=runtime)) as http:
            # The first update needs the crashed build's room; from the second on
            # the kept earlier build's. Both found the disk full before.
            for n in range(3):
                text = LANMEI.replace("12个", f"{12 + n}个")
                r = (
                    http.put("/v1/documents/lanmei", json={"text": text})
                    if n
                    else http.post("/v1/documents", json={"text": text, "doc_id": "lanmei"})
                )
                assert r.status_code in (200, 201), r.text
                answer = http.post("/v1/ask", json={"question": "澜湄流域要共建多少个水质自动监测站？"}).json()
                assert f"{12 + n}个水质自动监测站" in answer["citations"][0]["quote"]
        assert store.load().manifest.document_count == 6 and not list(store.builds.glob(".tmp-*"))


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
