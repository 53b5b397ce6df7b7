"""Several silkqa processes on one Milvus see one library: a document added
through one server is answered by the other.

Milvus Lite with a local ``.db`` file runs inside the process that opens it
and locks its data directory (one process per file), so two processes share
a Lite library through its server mode (``milvus-lite server``), the same
gRPC protocol and client code a Milvus standalone or cluster is reached by."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest

from tests.support.live import VENV_BIN, free_port, serving
from tests.support.makedocs import LANMEI

pytestmark = [pytest.mark.slow, pytest.mark.stores]

QUESTION = "澜湄流域要共建多少个水质自动监测站？"


@pytest.fixture
def milvus_server(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "milvus-lite"), "server", "--data-dir", str(tmp_path / "milvus"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with httpx.Client() as probe:
                probe.get(f"http://127.0.0.1:{port}", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


def _cited(server_url: str) -> list[dict]:
    body = httpx.post(server_url + "/v1/ask", json={"question": QUESTION, "top_k": 3}, timeout=60).json()
    return [c for c in body["citations"] if c["doc_id"] == "lanmei"]


def test_two_servers_on_one_milvus_answer_from_one_library(milvus_server, tmp_path):
    env = {
        "SILKQA_STORE": "milvus",
        "SILKQA_MILVUS_URI": milvus_server,
        "SILKQA_INDEX_DIR": str(tmp_path / "data"),  # shared: the writers' lock file
        "SILKQA_INDEX_POLL_SECONDS": "0.2",
    }
    with serving(env, timeout=600) as first, serving(env, timeout=600) as second:
        assert not _cited(second.url)
        r = httpx.post(first.url + "/v1/documents", json={"text": LANMEI, "doc_id": "lanmei"}, timeout=120)
        assert r.status_code == 201, r.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            docs = httpx.get(second.url + "/v1/documents").json()["documents"]
            if "lanmei" in {d["doc_id"] for d in docs}:
                break
            time.sleep(0.2)
        cited = _cited(second.url)
        assert cited and "12个水质自动监测站" in cited[0]["quote"]
        text = httpx.get(second.url + "/v1/documents/lanmei").json()["text"]
        assert text[cited[0]["start"] : cited[0]["end"]] == cited[0]["quote"]
        # And back: a delete through the second is seen by the first.
        assert httpx.delete(second.url + "/v1/documents/lanmei", timeout=120).status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _cited(first.url):
            time.sleep(0.2)
        assert not _cited(first.url)
        assert httpx.get(first.url + "/readyz").status_code == 200
