"""Scale benchmark: synthetic libraries of 10k, 100k and 1M chunks made from
the bundled corpus, on either store, each size and store on its own.

    python -m bench.scale build   --size 100k --store embedded [--minutes 35]
    python -m bench.scale merge   --size 100k --store embedded
    python -m bench.scale measure --size 100k --store embedded
    python -m bench.scale recall  --size 1m                       # approximate vs exact dense search
    python -m bench.scale profile --copies 2                      # where an ingest's time goes

A copy of a corpus document has its digits remapped (a permutation of 0-9 of
its own) and every sentence of every paragraph tagged with the copy's and the
paragraph's number, and its title and id numbered, so no unit text repeats and
nothing is reused by hash: every copy is embedded and indexed for real.

``build`` adds copies to the library through the same ingest path as ``silkqa
index`` (worker processes, batches of ``SILKQA_SEGMENT_CHUNKS``), publishing
after every batch, until the size is reached or ``--minutes`` have passed; it
can be run again to go on (a long build runs in pieces, under the machine
lock: ``flock /tmp/silkqa-bench.lock python -m bench.scale build ...``). Its
timings accumulate in ``<data>/<store>-<size>.json``. ``merge`` runs the
store's upkeep to the end (segment merging, timed apart). ``measure`` starts
``silkqa serve`` on the library and reports search and ask latency at
concurrency 1 and 8, /v1/search throughput at concurrency 1, 4 and 16,
adding and deleting one document through the API (three times: the median
and the first), the server's resident memory and the library's size on
disk, into the same JSON file. Results and
their reading: bench/SCALE.md."""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

from bench.load import percentile, questions
from silkqa.index.ingest.corpus import bundled_corpus_dir, load_corpus
from silkqa.index.ingest.types import SourceDocument
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.types import IndexMissing
from silkqa.service.library.lifecycle import ingest, store_of
from silkqa.service.settings import Settings
from tests.support.live import serving

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DATA = Path(os.environ.get("SILKQA_SCALE_DATA", "var/scale"))
# Chunks of one copy of the corpus (measured once by `build`, cached in the state file).
_SENTENCE_END = re.compile(r"([。！？；])")


# --- the synthetic library ---------------------------------------------------------------


def copy_of(source: SourceDocument, number: int) -> SourceDocument:
    """Copy ``number`` of a corpus document: digits permuted, every sentence tagged."""
    rng = random.Random(number)
    digits = list("0123456789")
    rng.shuffle(digits)
    table = str.maketrans("0123456789", "".join(digits))
    lines = []
    for paragraph_no, line in enumerate(source.raw.translate(table).split("\n")):
        tag = f"（样本{number}·{paragraph_no}）"
        lines.append(_SENTENCE_END.sub(lambda m, tag=tag: tag + m.group(1), line) if line.strip() else line)
    meta = replace(
        source.meta,
        doc_id=f"{source.meta.doc_id}-copy{number}",
        title=f"{source.meta.title}（第{number}号副本）",
        aliases=(),
    )
    return SourceDocument(meta, "\n".join(lines))


def synthetic(chunks: int, per_copy: int) -> Iterator[SourceDocument]:
    """Copies of the corpus, document by document, enough for ``chunks`` chunks."""
    corpus = load_corpus(bundled_corpus_dir())
    for number in range(1, -(-chunks // per_copy) + 1):
        for source in corpus:
            yield copy_of(source, number)


def settings_for(size: str, store: str) -> Settings:
    directory = DATA / f"{store}-{size}"
    return Settings(index_dir=directory, store=store, milvus_uri=str(directory / "milvus.db"), corpus_dir=bundled_corpus_dir())


def state_path(size: str, store: str) -> Path:
    return DATA / f"{store}-{size}.json"


def load_state(size: str, store: str) -> dict[str, Any]:
    path = state_path(size, store)
    return json.loads(path.read_text()) if path.exists() else {"size": size, "store": store, "build": {"seconds": 0.0}}


def save_state(state: dict[str, Any]) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    state_path(state["size"], state["store"]).write_text(json.dumps(state, indent=2, ensure_ascii=False))


def chunks_per_copy(settings: Settings, embedder: Embedder) -> int:
    from silkqa.index.store.build import parse

    return sum(len(parse(copy_of(s, 1), settings.index_options()).chunks) for s in load_corpus(bundled_corpus_dir()))


# --- commands ------------------------------------------------------------------------------


def pooled_vectors(size: str) -> Any:
    """A vector look-up that knows every hash: each unit gets a real vector of
    the ``size`` embedded library, chosen by its text's hash. The 1M library
    is built with these (its embedding alone would take hours on two shared
    cores): its serving figures are those of a real 1M-chunk library with
    vectors from the model's own distribution, but its build time is not a
    build throughput (bench/SCALE.md says so beside it)."""
    view = store_of(settings_for(size, "embedded")).open()
    pool = np.concatenate([p.segment.vectors.read_range(0, p.segment.n_units) for p in view.parts])

    def known(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        picks = np.array([int.from_bytes(bytes(h)[:8], "little") % len(pool) for h in hashes], np.int64)
        return np.ones(len(hashes), bool), pool[picks].astype(np.float32)

    return known


def build(size: str, store_name: str, minutes: float, reuse_from: str | None, vectors_like: str | None = None) -> None:
    settings = settings_for(size, store_name)
    state = load_state(size, store_name)
    embedder = Embedder(settings.embedding_model, threads=settings.embed_threads, backend=settings.embed_backend)
    state.setdefault("chunks_per_copy", chunks_per_copy(settings, embedder))
    store = store_of(settings)
    deadline = time.monotonic() + minutes * 60
    with store.lock():
        try:
            base = store.open()
            present = set(base.documents)
        except IndexMissing:
            base, present = None, set()
        todo = [s for s in synthetic(SIZES[size], state["chunks_per_copy"]) if s.meta.doc_id not in present]
        print(f"{len(present)} documents in the library, {len(todo)} to add", flush=True)
        started, cpu = time.perf_counter(), _cpu_seconds()
        build_state = state["build"]

        def record(view: Any) -> None:
            build_state["seconds"] = seconds_before + time.perf_counter() - started
            build_state["cpu_seconds"] = cpu_before + _cpu_seconds() - cpu
            build_state["chunks"] = view.manifest.chunk_count
            build_state["units"] = view.manifest.unit_count
            build_state["documents"] = view.manifest.document_count
            build_state["chunks_per_second"] = round(build_state["chunks"] / build_state["seconds"], 1)
            save_state(state)
            done = f"{view.manifest.chunk_count} chunks, {build_state['seconds']:.0f} s"
            print(f"{done}, {build_state['chunks_per_second']} chunks/s", flush=True)

        seconds_before, cpu_before = build_state["seconds"], build_state.get("cpu_seconds", 0.0)

        def out_of_time() -> bool:
            # Called after each published batch: the store holds what was done.
            record(store.open())
            return time.monotonic() > deadline

        # Vectors another store of the same size already embedded (the same texts), to time only storing them.
        known = store_of(settings_for(size, reuse_from)).open().known_vectors if reuse_from else None
        state["build"]["vectors reused from"] = reuse_from
        if vectors_like:
            known = pooled_vectors(vectors_like)
            state["build"]["vectors"] = f"drawn from the {vectors_like} library's real vectors, not embedded"
        if todo:
            ingest(store, settings, embedder, todo, base, known, True, publish_each_batch=True, until=out_of_time)
        present = set(store.open().documents)
        todo = [s for s in todo if s.meta.doc_id not in present]
    state["build"]["complete"] = not todo
    save_state(state)


def _cpu_seconds() -> float:
    """CPU time of this process and its (worker) children."""
    me = psutil.Process()
    times = me.cpu_times()
    children = sum(c.cpu_times().user + c.cpu_times().system for c in me.children(recursive=True))
    return times.user + times.system + times.children_user + times.children_system + children


def merge(size: str, store_name: str) -> None:
    settings = settings_for(size, store_name)
    store = store_of(settings)
    state = load_state(size, store_name)
    started = time.perf_counter()
    rounds = 0
    while store.maintain():
        rounds += 1
    state["merge"] = {"seconds": round(time.perf_counter() - started, 1), "rounds": rounds}
    save_state(state)
    print(state["merge"])


def _timed_requests(url: str, path: str, bodies: list[dict[str, Any]], concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def one(body: dict[str, Any]) -> None:
        started = time.perf_counter()
        r = http.post(path, json=body)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            if r.status_code != 200:
                errors[0] += 1

    with httpx.Client(base_url=url, timeout=120, limits=httpx.Limits(max_connections=concurrency + 2)) as http:
        http.post(path, json=bodies[0])  # warm-up
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, bodies))
        seconds = time.perf_counter() - started
    return {
        "requests": len(bodies),
        "errors": errors[0],
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "requests_per_second": round(len(bodies) / seconds, 1),
    }


def measure(size: str, store_name: str, requests: int) -> None:
    settings = settings_for(size, store_name)
    state = load_state(size, store_name)
    env = {
        "SILKQA_INDEX_DIR": str(settings.index_dir),
        "SILKQA_STORE": store_name,
        "SILKQA_MILVUS_URI": settings.milvus_uri,
        "SILKQA_RATE_LIMIT_PER_SECOND": "0",
        "SILKQA_INDEX_POLL_SECONDS": "0",
        "SILKQA_MAX_IN_FLIGHT": "256",
    }
    pool = questions()
    results: dict[str, Any] = {}
    with serving(env, timeout=1800) as server:
        # One pass over every question first, so every timed run finds the same warm caches
        # (the OS page cache, the postings of recent terms) instead of the first one alone cold.
        _timed_requests(server.url, "/v1/search", [{"query": q, "top_k": 5} for q in pool], 1)
        for path, key in (("/v1/search", "query"), ("/v1/ask", "question")):
            bodies = [{key: pool[i % len(pool)], "top_k": 5} for i in range(requests)]
            for concurrency in (1, 8):
                results[f"{path} c={concurrency}"] = _timed_requests(server.url, path, bodies, concurrency)
                print(path, concurrency, results[f"{path} c={concurrency}"], flush=True)
        bodies = [{"query": pool[i % len(pool)], "top_k": 5} for i in range(requests)]
        for concurrency in (4, 16):
            results[f"/v1/search c={concurrency}"] = _timed_requests(server.url, "/v1/search", bodies, concurrency)
            print("/v1/search", concurrency, results[f"/v1/search c={concurrency}"], flush=True)
        # New documents (copies never indexed), each added then deleted through the API, three
        # times: the first runs on colder caches than the others, so both are reported.
        adds, deletes = [], []
        with httpx.Client(base_url=server.url, timeout=600) as http:
            for n in range(3):
                new = copy_of(load_corpus(bundled_corpus_dir())[0], 10_000_000 + n)
                started = time.perf_counter()
                r = http.post("/v1/documents", json={"text": new.raw, "doc_id": f"scale-probe-{n}", "title": new.meta.title})
                adds.append(time.perf_counter() - started)
                assert r.status_code == 201, r.text
                chunks = r.json()["chunk_count"]
                started = time.perf_counter()
                r = http.delete(f"/v1/documents/scale-probe-{n}")
                assert r.status_code == 200, r.text
                deletes.append(time.perf_counter() - started)
        results["add one document"] = {"seconds": round(float(np.median(adds)), 2), "first": round(adds[0], 2), "chunks": chunks}
        results["delete one document"] = {"seconds": round(float(np.median(deletes)), 2), "first": round(deletes[0], 2)}
        results["serving RSS MiB"] = round(psutil.Process(server.process.pid).memory_info().rss / 2**20)
    results["disk MiB"] = round(_disk_bytes(settings.index_dir) / 2**20)
    results["load average"] = round(os.getloadavg()[0], 1)
    state["measure"] = results
    save_state(state)
    print(json.dumps(results, indent=2))


def _disk_bytes(directory: Path) -> int:
    out = subprocess.run(["du", "-sb", str(directory)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def profile(copies: int) -> None:
    """Where an ingest's time goes: each step of preparing and storing
    ``copies`` copies of the corpus, in this process, one thread, CPU seconds."""
    import tempfile

    from silkqa.index.ingest.chunking import chunk_document
    from silkqa.index.ingest.cleaning import clean
    from silkqa.index.store.build import build_units, prepare
    from silkqa.index.store.lexical import index_tokens, lexical_text
    from silkqa.index.store.segments import write_segment
    from silkqa.service.library.lifecycle import nothing_known

    settings = Settings()
    options = settings.index_options()
    embedder = Embedder(settings.embedding_model, threads=1, backend=settings.embed_backend)
    sources = [copy_of(s, n) for n in range(1, copies + 1) for s in load_corpus(bundled_corpus_dir())]
    steps = dict.fromkeys(("clean", "chunk", "dense units", "BM25 tokens", "embed", "write segment"), 0.0)

    def timed(step: str, fn: Any) -> Any:
        started = time.process_time()
        out = fn()
        steps[step] += time.process_time() - started
        return out

    chunks = units = 0
    for source in sources:
        cleaned = timed("clean", lambda s=source: clean(s.raw))
        doc_chunks = timed("chunk", lambda s=source, c=cleaned: chunk_document(s.meta.doc_id, c.text, options.chunking))
        _, texts = timed("dense units", lambda s=source, c=cleaned, d=doc_chunks: build_units(s.meta, c.text, d))
        timed(
            "BM25 tokens",
            lambda s=source, d=doc_chunks: [index_tokens(lexical_text(s.meta, c, True), True) for c in d],
        )
        timed("embed", lambda t=texts: embedder.encode(t))
        chunks, units = chunks + len(doc_chunks), units + len(texts)
    prepared = [prepare(s, embedder, options, nothing_known) for s in sources[:5]]  # a segment's worth to write
    with tempfile.TemporaryDirectory() as tmp:
        timed("write segment", lambda: write_segment(Path(tmp) / "s", prepared, 512, settings.dense_exact_max_units))
    written = sum(len(d.chunks) for d in prepared)
    steps["write segment"] *= chunks / written  # scaled to all the chunks
    total = sum(steps.values())
    result = {
        "chunks": chunks,
        "units": units,
        "cpu seconds per 1000 chunks": {k: round(v / chunks * 1000, 2) for k, v in steps.items()},
        "share": {k: round(v / total, 3) for k, v in steps.items()},
        "chunks per cpu second": round(chunks / total, 1),
    }
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "profile.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def recall(size: str, queries: int, nprobe: int | None) -> None:
    """recall@10 of the dense search the store serves against exact search
    over every vector, for dev-set questions."""
    from silkqa.index.store.embedded import EmbeddedStore

    settings = settings_for(size, "embedded")
    if nprobe is not None:
        settings = settings.model_copy(update={"dense_nprobe": nprobe})
    store = store_of(settings)
    assert isinstance(store, EmbeddedStore)
    view = store.open()
    embedder = Embedder(settings.embedding_model, backend=settings.embed_backend)
    texts = questions()[:queries]
    vectors = embedder.encode(texts)
    served_ms: list[float] = []
    served = []
    for v in vectors:
        started = time.perf_counter()
        served.append(view.search_dense(v, 10).units)
        served_ms.append((time.perf_counter() - started) * 1000)
    # Exact: every live vector, in blocks; the 10th best similarity of each question.
    best: list[list[float]] = [[] for _ in texts]
    for part in view.parts:
        segment = part.segment
        alive = np.ones(segment.n_units, bool)
        for row in part.dead_rows:
            alive[row.first_unit : row.first_unit + row.unit_count] = False
        for start in range(0, segment.n_units, 200_000):
            stop = min(segment.n_units, start + 200_000)
            sims = segment.vectors.read_range(start, stop).astype(np.float32) @ vectors.T
            sims[~alive[start:stop]] = -2
            for q in range(len(texts)):
                best[q].extend(np.partition(sims[:, q], len(sims) - 10)[-10:].tolist())
    # A served unit counts when it is as similar as the exact 10th: ties (equal vectors) are
    # equally right, whichever of them a search returns.
    recalls = []
    for q in range(len(texts)):
        tenth = sorted(best[q], reverse=True)[9]
        exact_of_served = view.unit_vectors(served[q]) @ vectors[q]
        recalls.append(float(np.sum(exact_of_served >= tenth - 1e-4)) / 10)
    state = load_state(size, "embedded")
    state.setdefault("recall", {})[str(settings.dense_nprobe)] = {
        "queries": len(texts),
        "recall@10": round(float(np.mean(recalls)), 4),
        "dense search p50 ms": round(percentile(served_ms, 50), 2),
        "dense search p95 ms": round(percentile(served_ms, 95), 2),
        "segments": [p.segment.meta["dense"] for p in view.parts],
    }
    save_state(state)
    print(json.dumps(state["recall"], indent=2))


def report() -> None:
    """The tables of bench/SCALE.md, from every state file in the data directory."""
    rows = []
    for size in SIZES:
        for store_name in ("embedded", "milvus"):
            path = state_path(size, store_name)
            if not path.exists():
                continue
            state = json.loads(path.read_text())
            b, m = state.get("build", {}), state.get("measure", {})

            def lat(key: str, m: dict[str, Any] = m) -> str:
                r = m.get(key)
                return f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f}" if r else "–"

            rows.append(
                f"| {size} | {store_name} | {b.get('chunks', 0):,} | {b.get('seconds', 0):.0f} s "
                f"({b.get('chunks_per_second', 0):.0f}/s) | "
                f"{m.get('add one document', {}).get('seconds', '–')} s | "
                f"{m.get('delete one document', {}).get('seconds', '–')} s | "
                f"{lat('/v1/search c=1')} | {lat('/v1/search c=8')} | {lat('/v1/ask c=1')} | {lat('/v1/ask c=8')} | "
                f"{m.get('serving RSS MiB', '–')} MiB | {m.get('disk MiB', '–')} MiB | {m.get('load average', '–')} |"
            )
    columns = ["size", "store", "chunks", "build (chunks/s)", "add one doc", "delete one doc"]
    columns += ["search p50/p95 ms c=1", "c=8", "ask p50/p95 ms c=1", "c=8", "serving RSS", "disk", "load"]
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    print("\n".join(rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "merge", "measure", "recall", "profile", "report"])
    parser.add_argument("--size", choices=sorted(SIZES), default="10k")
    parser.add_argument("--store", choices=["embedded", "milvus"], default="embedded")
    parser.add_argument("--minutes", type=float, default=35.0, help="build: stop after this long (go on with another run)")
    parser.add_argument("--reuse-from", choices=["embedded", "milvus"], help="build: take the vectors from this store's library")
    parser.add_argument(
        "--vectors-like", choices=sorted(SIZES), help="build: draw vectors from that embedded library's, embed nothing"
    )
    parser.add_argument("--requests", type=int, default=200, help="measure: requests per latency run")
    parser.add_argument("--queries", type=int, default=100, help="recall: questions")
    parser.add_argument("--nprobe", type=int, help="recall: inverted lists to visit (default SILKQA_DENSE_NPROBE)")
    parser.add_argument("--copies", type=int, default=2, help="profile: copies of the corpus to prepare")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.command == "build":
        build(args.size, args.store, args.minutes, args.reuse_from, args.vectors_like)
    elif args.command == "merge":
        merge(args.size, args.store)
    elif args.command == "measure":
        measure(args.size, args.store, args.requests)
    elif args.command == "report":
        report()
    elif args.command == "recall":
        recall(args.size, args.queries, args.nprobe)
    else:
        profile(args.copies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
