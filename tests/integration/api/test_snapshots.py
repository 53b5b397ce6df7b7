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
