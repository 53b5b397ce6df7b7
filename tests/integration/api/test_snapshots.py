"""One snapshot per request: while the live library swaps between two builds
as fast as it can, concurrent requests over real HTTP never fail and every
response is consistent with exactly one build: its titles, quotes and offsets
all come from the same one."""

from __future__ import annotations

import dataclasses
import threading
import time

import httpx
import pytest

from silkqa.index.ingest.types import SourceDocument
from silkqa.service.api.app import create_app
from silkqa.service.library.lifecycle import ingest
from tests.support.live import serve
from tests.support.makedocs import LANMEI

pytestmark = pytest.mark.stores  # also run with SILKQA_STORE=milvus

QUESTION = "指导意见在人才队伍建设方面有哪些要求？"
DOC = "guiding-opinion-2017"
# Build B's version of the guiding opinion: a new first line shifts every
# offset, and a new title tells the builds apart in a response.
PREFACE = "（本文件为B版，首行用于移动全部字符位置。）\n"


def _build_b(runtime, embedder):
    """Build B, published in the runtime's store (A's state stays readable through A's view)."""
    a = runtime.library.current().index
    s = a.documents[DOC].source
    changed = SourceDocument(dataclasses.replace(s.meta, title=s.meta.title + "（B版）"), PREFACE + s.raw)
    store = runtime.library.store
    with store.lock():
        return ingest(store, runtime.settings, embedder, [changed], a, a.known_vectors, library_edited=True)


def _consistent(body: dict, builds: dict[str, dict[str, tuple[str, str]]]) -> str | None:
    """The build every citation and passage of ``body`` agrees with, or None."""
    items = [(c["doc_id"], c["title"], c["quote"], c["start"], c["end"]) for c in body.get("citations", [])]
    items += [(p["doc_id"], p["title"], p["text"], p["start"], p["end"]) for p in body.get("passages", body.get("results", []))]
    for name, docs in builds.items():
        if all(doc in docs and docs[doc][0] == title and docs[doc][1][s:e] == text for doc, title, text, s, e in items):
            return name
    return None


def test_requests_never_mix_two_builds_while_the_index_swaps_under_them(runtime_copy, embedder):
    library = runtime_copy.library
    a = library.current().index
    b = _build_b(runtime_copy, embedder)
    builds = {
        name: {d.meta.doc_id: (d.meta.title, d.text) for d in index.documents.values()} for name, index in (("a", a), ("b", b))
    }
    assert builds["a"][DOC][1] != builds["b"][DOC][1]

    stop = threading.Event()
    swaps = [0]

    def swapper() -> None:
        while not stop.is_set():
            library.swap(b if swaps[0] % 2 == 0 else a)
            swaps[0] += 1
            time.sleep(0.001)

    failures: list[str] = []
    seen: dict[str, int] = {"a": 0, "b": 0}
    lock = threading.Lock()

    def client(url: str, kind: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                if kind == "ask":
                    r = http.post("/v1/ask", json={"question": QUESTION, "top_k": 5})
                elif kind == "search":
                    r = http.post("/v1/search", json={"query": QUESTION, "top_k": 5})
                else:
                    r = http.get(f"/v1/documents/{DOC}")
                if r.status_code != 200:
                    failures.append(f"{kind}: {r.status_code} {r.text[:200]}")
                    continue
                body = r.json()
                if kind == "document":
                    build = next((n for n, docs in builds.items() if docs[DOC] == (body["title"], body["text"])), None)
                else:
                    build = _consistent(body, builds)
                    if kind == "ask" and (body["abstained"] or not body["citations"]):
                        failures.append(f"ask abstained: {body['answer'][:80]}")
                if build is None:
                    failures.append(f"{kind}: a response mixing two builds: {str(body)[:300]}")
                else:
                    with lock:
                        seen[build] += 1

    with serve(create_app(runtime=runtime_copy)) as url:
        threads = [threading.Thread(target=swapper)] + [
            threading.Thread(target=client, args=(url, kind)) for kind in ("ask", "ask", "search", "document")
        ]
        for t in threads:
            t.start()
        for t in threads[1:]:
            t.join()
        stop.set()
        threads[0].join()

    assert failures == []
    assert swaps[0] > 100 and seen["a"] > 0 and seen["b"] > 0, (swaps, seen)


@pytest.mark.slow
def test_documents_added_and_deleted_through_the_api_during_reads_break_no_read(runtime_copy):
    """The audit's race: a document deleted while requests citing it are in
    flight made `titles[...]` raise (500s and dropped connections). Here a
    document is added and deleted 6 times through the API while clients ask
    about it, search for it, list the library and read it: every response is
    a 200 (or, reading the document while it is gone, a 404 problem), and no
    connection is dropped."""
    doc_id = "lanmei"
    question = "澜湄流域要共建多少个水质自动监测站？"
    stop = threading.Event()
    failures: list[str] = []
    reads = [0]

    def reader(url: str, kind: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                try:
                    if kind == "ask":
                        r = http.post("/v1/ask", json={"question": question, "top_k": 5})
                    elif kind == "search":
                        r = http.post("/v1/search", json={"query": question, "top_k": 5})
                    elif kind == "list":
                        r = http.get("/v1/documents")
                    else:
                        r = http.get(f"/v1/documents/{doc_id}/original", params={"start": 0, "end": 10})
                except httpx.TransportError as exc:
                    failures.append(f"{kind}: connection failed: {exc!r}")
                    continue
                reads[0] += 1
                gone = kind == "document" and r.status_code == 404 and r.json()["type"] == "/problems/unknown-document"
                if r.status_code != 200 and not gone:
                    failures.append(f"{kind}: {r.status_code} {r.text[:200]}")

    with serve(create_app(runtime=runtime_copy)) as url:
        readers = [threading.Thread(target=reader, args=(url, kind)) for kind in ("ask", "ask", "search", "list", "document")]
        for t in readers:
            t.start()
        try:
            with httpx.Client(base_url=url, timeout=120) as http:
                for n in range(6):
                    text = LANMEI.replace("12个", f"{12 + n}个")
                    assert http.post("/v1/documents", json={"text": text, "doc_id": doc_id}).status_code == 201
                    assert http.delete(f"/v1/documents/{doc_id}").status_code == 200
        finally:
            stop.set()
            for t in readers:
                t.join(timeout=60)
    assert failures == []
    assert reads[0] > 50
