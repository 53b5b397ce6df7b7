"""Faults and lifecycle, on the real ``silkqa serve`` where it matters: a
corrupt or mismatched index and a missing model refuse start-up clearly; a
full disk during an ingest leaves the live index serving; SIGTERM lets a
request in flight finish. Never a lost index."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import resource
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from silkqa.index.store.embedded import EmbeddedStore
from silkqa.index.store.embedding import Embedder, ModelUnavailable
from silkqa.service.api.app import create_app
from silkqa.service.library.lifecycle import ensure_index
from silkqa.service.library.types import IndexUnusable
from silkqa.service.settings import Settings
from tests.support.live import server_env, serving
from tests.support.paths import read_corpus

pytestmark = pytest.mark.slow

QUESTION = "指导意见在人才队伍建设方面有哪些要求？"


def _run(coroutine):
    """asyncio.run in a thread of its own: a session fixture of another test
    module (the browser tests') may be running an event loop in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def index_copy(settings, runtime, tmp_path) -> Path:
    """A copy of the session index directory (it matches the default settings)."""
    target = tmp_path / "index"
    shutil.copytree(settings.index_dir, target)
    return target


def _serve_once(env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """``silkqa serve`` expected to refuse to start: its exit and output."""
    return subprocess.run(["silkqa", "serve"], env=server_env(env), capture_output=True, text=True, timeout=timeout)


def _tree(path: Path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.stat().st_size for p in sorted(path.rglob("*")) if p.is_file()}


# --- start-up refuses what it cannot serve ------------------------------------------


def _store(index_dir: Path) -> EmbeddedStore:
    return EmbeddedStore(index_dir, Settings().store_options(), Settings().index_options())


def _truncate_vectors(index_dir: Path) -> None:
    generation = json.loads(_store(index_dir).current_generation().read_text())
    faiss_file = index_dir / "segments" / generation["segments"][-1]["id"] / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:1000])


def _claim_another_model(index_dir: Path) -> None:
    path = _store(index_dir).current_generation().with_suffix(".manifest.json")
    manifest = json.loads(path.read_text())
    manifest["model"]["fingerprint"] = "some-other-model==9"
    path.write_text(json.dumps(manifest))


def _garble_manifest(index_dir: Path) -> None:
    _store(index_dir).current_generation().with_suffix(".manifest.json").write_text('{"format": ')


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_truncate_vectors, "is unreadable"),
        (_claim_another_model, "built with model"),
        (_garble_manifest, "manifest in"),
    ],
)
def test_a_corrupt_or_mismatched_index_is_refused_with_a_clear_reason(settings, embedder, index_copy, damage, reason):
    damage(index_copy)
    before = _tree(index_copy)
    strict = settings.model_copy(update={"index_dir": index_copy, "rebuild_stale_index": False})
    with pytest.raises(IndexUnusable, match=reason):
        ensure_index(strict, embedder)
    assert _tree(index_copy) == before  # refused, not "repaired" away


def test_silkqa_serve_exits_with_the_reason_when_the_index_is_corrupt(index_copy):
    generation = _store(index_copy).current_id()
    _truncate_vectors(index_copy)
    before = _tree(index_copy)
    done = _serve_once({"SILKQA_INDEX_DIR": str(index_copy), "SILKQA_REBUILD_STALE_INDEX": "false"})
    assert done.returncode == 2
    (line,) = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{") and '"CRITICAL"' in x]
    assert line["message"].startswith("cannot start: the index cannot be used") and generation in line["message"]
    assert "Traceback" not in done.stderr
    assert _tree(index_copy) == before


def test_a_missing_model_is_refused_with_a_clear_reason(tmp_path, index_copy):
    done = _serve_once({"SILKQA_INDEX_DIR": str(index_copy), "SILKQA_EMBEDDING_MODEL": str(tmp_path / "no-such-model")})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot start: embedding model" in done.stderr and "never downloaded" in done.stderr

    # A model directory with its files missing: the loader's own error, named as such.
    (tmp_path / "broken-model").mkdir()
    (tmp_path / "broken-model" / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "", "type": "no.such.Module"}]')
    with pytest.raises(ModelUnavailable, match="cannot load the embedding model in"):
        Embedder(str(tmp_path / "broken-model"))


# --- a full disk during an ingest -------------------------------------------------------

FILE_LIMIT = 64 << 10  # bytes: below the size of a new segment's texts, above the server's log


def _small_files_only() -> None:
    """In the server process: writing past FILE_LIMIT fails with EFBIG, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def test_a_full_disk_during_an_ingest_fails_clearly_and_the_live_index_keeps_serving(index_copy):
    store = _store(index_copy)
    live_build = store.current_generation()
    # A bundled text under a new id: its vectors are reused, its texts make a segment larger than the limit.
    with serving({"SILKQA_INDEX_DIR": str(index_copy)}, preexec_fn=_small_files_only) as server:
        r = httpx.post(
            server.url + "/v1/documents", json={"text": read_corpus("opinion-2022"), "doc_id": "lanmei-note"}, timeout=120
        )
        assert r.status_code == 507, server.log_text()[-3000:]
        problem = r.json()
        assert problem["title"] == "Insufficient storage" and "cannot write" in problem["detail"]
        assert "nothing was changed" in problem["detail"] and problem["request_id"]
        assert httpx.get(server.url + "/readyz").status_code == 200
        docs = httpx.get(server.url + "/v1/documents").json()["documents"]
        assert "lanmei-note" not in {d["doc_id"] for d in docs} and len(docs) == 5
        answer = httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, timeout=60).json()
        assert answer["citations"][0]["doc_id"] == "guiding-opinion-2017"
    assert store.current_generation() == live_build
    assert not list(store.segments.glob(".tmp-*"))  # the half-written segment was removed
    assert store.open().manifest.document_count == 5


def test_silkqa_index_on_a_full_disk_says_so_and_keeps_the_live_index(index_copy):
    store = _store(index_copy)
    live_build = store.current_generation()
    done = subprocess.run(
        ["silkqa", "index", "--force"],
        env=server_env({"SILKQA_INDEX_DIR": str(index_copy)}),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_small_files_only,
    )
    assert done.returncode == 1
    assert "cannot write the index" in done.stderr and "the live index is unchanged" in done.stderr
    assert store.current_generation() == live_build and not list(store.segments.glob(".tmp-*"))
    assert store.open().manifest.chunk_count > 0


# --- SIGTERM drains requests in flight ------------------------------------------------------


def _in_flight(url: str) -> float:
    text = httpx.get(url + "/metrics").text
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith("silkqa_http_requests_in_flight ")))


def test_sigterm_lets_the_request_in_flight_finish_then_exits(index_copy):
    body = json.dumps({"question": QUESTION}).encode()
    with serving({"SILKQA_INDEX_DIR": str(index_copy)}) as server:
        host, port = server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.putrequest("POST", "/v1/ask")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[:10])  # the request has started; its body is still on the way
        deadline = time.monotonic() + 10
        while _in_flight(server.url) < 2:  # it, and the scrape asking
            assert time.monotonic() < deadline
            time.sleep(0.05)

        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert server.process.poll() is None  # still draining
        with pytest.raises(OSError):  # but no longer accepting
            socket.create_connection((host, int(port)), timeout=2).close()

        conn.send(body[10:])
        response = conn.getresponse()
        assert response.status == 200
        answer = json.loads(response.read())
        assert answer["citations"][0]["doc_id"] == "guiding-opinion-2017"
        # Drained, then uvicorn re-raises the SIGTERM it caught, so the exit status says how it ended.
        assert server.process.wait(30) == -signal.SIGTERM
    records = server.log_records()
    assert any(r.get("route") == "/v1/ask" and r.get("status") == 200 for r in records)
    assert any("Finished server process" in r.get("message", "") for r in records)


# --- a client that leaves mid-stream ---------------------------------------------------------


def test_a_client_leaving_mid_stream_leaves_the_service_serving(settings, runtime, caplog):
    """Raw ASGI, so the disconnect lands exactly after the first streamed chunk."""
    app = create_app(settings, runtime=runtime)
    body = json.dumps({"question": QUESTION, "stream": True}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http"}
    scope |= {"path": "/v1/ask", "raw_path": b"/v1/ask", "query_string": b"", "root_path": "", "headers": headers}
    scope |= {"client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}

    async def scenario() -> list[dict]:
        left = asyncio.Event()
        sent: list[dict] = []
        body_sent = False

        async def receive() -> dict:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and message.get("body"):
                left.set()  # the client goes away after the first chunk

        await asyncio.wait_for(app(scope, receive, send), timeout=60)
        return sent

    with caplog.at_level(logging.INFO, logger="silkqa.access"):
        sent = _run(scenario())
    assert sent[0]["status"] == 200 and dict(sent[0]["headers"])[b"content-type"].startswith(b"text/event-stream")
    assert sent[1]["body"].startswith(b"event: meta")
    (line,) = [r for r in caplog.records if r.name == "silkqa.access"]
    assert line.fields["route"] == "/v1/ask" and line.fields["status"] == 200
    with TestClient(app) as client:  # and the service goes on
        metrics = client.get("/metrics").text
        assert "silkqa_http_requests_in_flight 1.0" in metrics  # only this scrape: the stream was let go
        assert client.post("/v1/ask", json={"question": QUESTION}).json()["citations"]
