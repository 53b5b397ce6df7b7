"""Soak: a steady request rate against one ``silkqa serve`` for ``--duration``
seconds (10 minutes at 50 requests a second by default), with the traffic a
deployment sees: questions (JSON and streamed), searches, and reads of the
library (the list, one document, a span mapped to its original), plus one
document update a minute (``--update-every``; a note replaced with a new figure, which the next
questions must cite). The server's RSS is sampled every ``--every`` seconds.

    python -m bench.soak                                   # 600 s at 50 req/s
    python -m bench.soak --rate 10 --duration 15 --first-update 3    # what CI runs

Requests are started on a fixed schedule (open loop, so a slow server cannot
slow the offered load down), with at most ``--max-outstanding`` in progress
(bounded: the client never queues without limit; a request that would pass
the bound is counted as ``skipped``). An error is any response but a 2xx with
the expected body, or a failed connection. Prints p50/p95 and the errors per
minute, RSS at the start, the end and its spread after the first minute;
writes bench/out/soak-<time>.json. Results: bench/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from bench.load import KEY, OUT, bench_server, percentile, questions, rss_mb
from tests.support.live import Server, parse_sse
from tests.support.paths import ROOT

EDITOR_KEY = "sq_bench_editor_key_000000001"
NOTE_ID = "soak-note"
NOTE = "澜湄流域监测合作说明\n一、合作目标\n双方同意在流域内共建{n}个水质自动监测站，每季度交换一次监测数据。"
NOTE_QUESTION = "澜湄流域要共建多少个水质自动监测站？"
# The share of each kind of request, out of 20.
MIX = ["ask"] * 8 + ["stream"] * 2 + ["search"] * 4 + ["list"] * 2 + ["document"] * 2 + ["original"] * 2


@dataclass
class Minute:
    minute: int
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    updates: int
    rss_mb: float


@dataclass
class SoakResult:
    rate: float
    seconds: float
    requests: int
    errors: int
    skipped: int
    achieved_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    updates: int
    update_seconds: list[float]
    rss_start_mb: float
    rss_end_mb: float
    rss_after_warmup_min_mb: float
    rss_after_warmup_max_mb: float
    minutes: list[Minute] = field(default_factory=list)
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    error_samples: list[str] = field(default_factory=list)


async def _soak(
    server: Server, rate: float, duration: float, every: float, max_outstanding: int, first_update: float, update_every: float
) -> SoakResult:
    pool = questions()
    reader = {"Authorization": f"Bearer {KEY}"}
    editor = {"Authorization": f"Bearer {EDITOR_KEY}"}
    done: list[tuple[float, float, bool]] = []  # (seconds since start, latency ms, ok)
    errors: list[str] = []
    updates: list[tuple[float, float]] = []  # (seconds since start, duration s)
    samples = [(0.0, rss_mb(server))]
    skipped = 0
    outstanding = 0
    counter = itertools.count()
    limits = httpx.Limits(max_connections=max_outstanding + 4, max_keepalive_connections=max_outstanding + 4)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
        docs = (await http.get("/v1/documents", headers=reader)).json()["documents"]
        doc_ids = [d["doc_id"] for d in docs]
        note_figure = 12
        r = await http.post("/v1/documents", json={"text": NOTE.format(n=note_figure), "doc_id": NOTE_ID}, headers=editor)
        r.raise_for_status()

        def check(kind: str, r: httpx.Response) -> str | None:
            if r.status_code // 100 != 2:
                return f"{kind}: {r.status_code} {r.text[:200]}"
            if kind == "stream":
                names = [name for name, _ in parse_sse(r.text)]
                return None if names and names[-1] == "done" else f"stream: ended with {names[-1:]}"
            body = r.json()
            ok = {
                "ask": "answer" in body,
                "search": "results" in body,
                "list": bool(body.get("documents")),
                "document": "text" in body,
                "original": body.get("span") is not None,
            }[kind]
            return None if ok else f"{kind}: unexpected body {str(body)[:200]}"

        async def one(kind: str, n: int, began: float) -> None:
            nonlocal outstanding
            started = time.perf_counter()
            doc = doc_ids[n % len(doc_ids)]
            request: Callable[[], Awaitable[httpx.Response]] = {
                "ask": lambda: http.post("/v1/ask", json={"question": pool[n % len(pool)]}, headers=reader),
                "stream": lambda: http.post("/v1/ask", json={"question": pool[n % len(pool)], "stream": True}, headers=reader),
                "search": lambda: http.post("/v1/search", json={"query": pool[n % len(pool)]}, headers=reader),
                "list": lambda: http.get("/v1/documents", headers=reader),
                "document": lambda: http.get(f"/v1/documents/{doc}", headers=reader),
                "original": lambda: http.get(f"/v1/documents/{doc}/original", params={"start": 0, "end": 20}, headers=reader),
            }[kind]
            try:
                problem = check(kind, await request())
            except httpx.HTTPError as exc:
                problem = f"{kind}: {exc!r}"
            finally:
                outstanding -= 1
            if problem:
                errors.append(problem)
            done.append((started - began, (time.perf_counter() - started) * 1000, problem is None))

        async def update(began: float) -> None:
            nonlocal note_figure
            note_figure += 1
            started = time.perf_counter()
            r = await http.put(f"/v1/documents/{NOTE_ID}", json={"text": NOTE.format(n=note_figure)}, headers=editor)
            seconds = time.perf_counter() - started
            updates.append((started - began, round(seconds, 2)))
            if r.status_code != 200:
                errors.append(f"update: {r.status_code} {r.text[:200]}")
                return
            answer = (await http.post("/v1/ask", json={"question": NOTE_QUESTION}, headers=reader)).json()
            if not any(f"{note_figure}个" in c["quote"] for c in answer["citations"]):
                errors.append(f"update: the answer after it does not cite {note_figure}个: {answer['answer'][:120]}")

        began = time.perf_counter()
        tasks: set[asyncio.Task[None]] = set()
        next_update = first_update
        while (now := time.perf_counter() - began) < duration:
            n = next(counter)
            due = n / rate
            if due > now:
                await asyncio.sleep(due - now)
            if now >= next_update:
                tasks.add(asyncio.create_task(update(began)))
                next_update += update_every
            if now - samples[-1][0] >= every:
                samples.append((round(now, 1), rss_mb(server)))
            if outstanding >= max_outstanding:
                skipped += 1
                continue
            outstanding += 1
            task = asyncio.create_task(one(MIX[n % len(MIX)], n, began))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    samples.append((round(elapsed, 1), rss_mb(server)))
    latencies = [ms for _, ms, ok in done if ok]
    minutes = []
    for m in range(int(duration // 60) or 1):
        lo, hi = m * 60, (m + 1) * 60 if duration >= 60 else duration
        in_minute = [(ms, ok) for t, ms, ok in done if lo <= t < hi]
        ok_ms = [ms for ms, ok in in_minute if ok]
        rss = [mb for t, mb in samples if lo <= t <= hi]
        minutes.append(
            Minute(
                minute=m + 1,
                requests=len(in_minute),
                errors=sum(1 for _, ok in in_minute if not ok),
                p50_ms=round(percentile(ok_ms, 50), 1),
                p95_ms=round(percentile(ok_ms, 95), 1),
                updates=sum(1 for t, _ in updates if lo <= t < hi),
                rss_mb=max(rss) if rss else samples[-1][1],
            )
        )
    warm = [mb for t, mb in samples if t >= min(60, duration / 2)]
    return SoakResult(
        rate=rate,
        seconds=round(elapsed, 1),
        requests=len(done),
        errors=len(errors),
        skipped=skipped,
        achieved_rps=round(len(done) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50), 1),
        p95_ms=round(percentile(latencies, 95), 1),
        p99_ms=round(percentile(latencies, 99), 1),
        updates=len(updates),
        update_seconds=[s for _, s in updates],
        rss_start_mb=samples[0][1],
        rss_end_mb=samples[-1][1],
        rss_after_warmup_min_mb=min(warm),
        rss_after_warmup_max_mb=max(warm),
        minutes=minutes,
        rss_samples=samples,
        error_samples=errors[:5],
    )


def soak_server(index_dir: Path, workdir: Path):
    """The load bench's server (reader key, rate limit off) with an editor key for the updates."""
    keys = f"bench:reader:{KEY},bench-editor:editor:{EDITOR_KEY}"
    return bench_server(index_dir, workdir, {"SILKQA_API_KEYS": keys})


def run_soak(
    server: Server,
    rate: float,
    duration: float,
    every: float = 10,
    max_outstanding: int = 64,
    first_update: float = 30,
    update_every: float = 60,
) -> SoakResult:
    # In a thread of its own, so a caller already running an event loop (a test session) can use it too.
    with ThreadPoolExecutor(1) as pool:
        soak = _soak(server, rate, duration, every, max_outstanding, first_update, update_every)
        return pool.submit(asyncio.run, soak).result()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-dir", type=Path, default=ROOT / "var" / "index")
    p.add_argument("--rate", type=float, default=50, help="requests started per second")
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--every", type=float, default=10, help="seconds between RSS samples")
    p.add_argument("--max-outstanding", type=int, default=64, help="most requests in progress at once")
    p.add_argument("--first-update", type=float, default=30, help="seconds to the first update")
    p.add_argument("--update-every", type=float, default=60, help="seconds between updates")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="silkqa-soak-") as tmp, soak_server(args.index_dir, Path(tmp)) as server:
        result = run_soak(
            server, args.rate, args.duration, args.every, args.max_outstanding, args.first_update, args.update_every
        )
    print("| minute | requests | errors | p50 ms | p95 ms | updates | RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for m in result.minutes:
        print(f"| {m.minute} | {m.requests} | {m.errors} | {m.p50_ms} | {m.p95_ms} | {m.updates} | {m.rss_mb} |")
    spread = result.rss_after_warmup_max_mb - result.rss_after_warmup_min_mb
    print(
        f"{result.requests} requests in {result.seconds} s ({result.achieved_rps} req/s, {result.skipped} skipped), "
        f"{result.errors} errors; p50 {result.p50_ms} / p95 {result.p95_ms} / p99 {result.p99_ms} ms; "
        f"{result.updates} updates ({result.update_seconds} s)"
    )
    print(
        f"RSS {result.rss_start_mb} MB at start, {result.rss_end_mb} MB at end; after the first minute "
        f"{result.rss_after_warmup_min_mb}-{result.rss_after_warmup_max_mb} MB "
        f"({100 * spread / result.rss_after_warmup_min_mb:.1f}%)"
    )
    if result.error_samples:
        print("errors:", *result.error_samples, sep="\n  ")
    OUT.mkdir(exist_ok=True)
    out = OUT / f"soak-{int(time.time())}.json"
    out.write_text(json.dumps(asdict(result), indent=2, ensure_ascii=False))
    print(f"details in bench/out/{out.name}")


if __name__ == "__main__":
    main()
