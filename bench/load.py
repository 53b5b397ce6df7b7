"""Load test: a small asyncio/httpx client against a real ``silkqa serve`` on
127.0.0.1. Each of ``--concurrency`` clients asks the evaluation-set questions
(eval/dev.jsonl, Chinese and English, answerable or not) back to back for
``--duration`` seconds with a reader key; a side probe times ``/healthz`` every
0.25 s to show the event loop stays responsive while the CPU is saturated.

    python -m bench.load --concurrency 16 --duration 60          # the headline run
    python -m bench.load --sweep 1,2,4,8,16,32 --duration 20     # latency vs concurrency
    python -m bench.load --concurrency 100 --duration 30 --server-cpus 0 --client-cpus 1 \
        --in-flight-wait 0                                       # load shedding, client pinned apart

An error is any response but a 200 carrying an answer, or a failed request;
a client retries at once after an error (a 503 included), as a naive client
does. ``shed`` counts the 503s among the errors.
The per-key rate limit is off for the bench key (it would otherwise be what is
measured); every other limit is at its default. Results: bench/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

from tests.support.live import Server, serving
from tests.support.paths import ROOT

KEY = "sq_bench_reader_key_000000001"
OUT = Path(__file__).with_name("out")


def questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["question"] for row in rows]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    requests: int
    errors: int
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    healthz_p50_ms: float
    healthz_p95_ms: float
    healthz_max_ms: float
    shed: int = 0
    error_samples: list[str] = field(default_factory=list)


async def _load(url: str, concurrency: int, duration: float, on_tick: Callable[[], None] | None) -> LoadResult:
    pool = questions()
    latencies: list[float] = []
    probe: list[float] = []
    errors: list[str] = []
    counter = 0
    deadline = time.monotonic() + duration
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60, headers={"Authorization": f"Bearer {KEY}"}) as client:

        async def worker() -> None:
            nonlocal counter
            while time.monotonic() < deadline:
                question = pool[counter % len(pool)]
                counter += 1
                started = time.perf_counter()
                try:
                    r = await client.post("/v1/ask", json={"question": question})
                    ok = r.status_code == 200 and "answer" in r.json()
                    if not ok:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                if ok:
                    latencies.append((time.perf_counter() - started) * 1000)

        async def prober() -> None:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                r = await client.get("/healthz")
                if r.status_code == 200:
                    probe.append((time.perf_counter() - started) * 1000)
                else:
                    errors.append(f"healthz {r.status_code}")
                if on_tick:
                    on_tick()
                await asyncio.sleep(0.25)

        began = time.monotonic()
        await asyncio.gather(prober(), *(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - began
    return LoadResult(
        concurrency=concurrency,
        seconds=round(elapsed, 1),
        requests=len(latencies) + len(errors),
        errors=len(errors),
        throughput_rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50), 1),
        p95_ms=round(percentile(latencies, 95), 1),
        p99_ms=round(percentile(latencies, 99), 1),
        max_ms=round(max(latencies, default=0), 1),
        healthz_p50_ms=round(percentile(probe, 50), 1),
        healthz_p95_ms=round(percentile(probe, 95), 1),
        healthz_max_ms=round(max(probe, default=0), 1),
        shed=sum(1 for e in errors if e.startswith("503")),
        error_samples=errors[:5],
    )


def run_load(url: str, concurrency: int, duration: float, on_tick: Callable[[], None] | None = None) -> LoadResult:
    # In a thread of its own, so a caller already running an event loop (a test session) can use it too.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _load(url, concurrency, duration, on_tick)).result()


def rss_mb(server: Server) -> float:
    return round(psutil.Process(server.process.pid).memory_info().rss / 2**20, 1)


def bench_server(index_dir: Path, workdir: Path, extra_env: dict[str, str] | None = None, cpus: str | None = None):
    """A server over a copy of ``index_dir`` with the bench key (rate limit off),
    on the CPUs ``cpus`` (taskset's list) when given."""
    shutil.copytree(index_dir, workdir / "index")
    env = {
        "SILKQA_INDEX_DIR": str(workdir / "index"),
        "SILKQA_API_KEYS": f"bench:reader:{KEY}",
        "SILKQA_RATE_LIMIT_PER_SECOND": "0",
    }
    command = ("taskset", "-c", cpus, "silkqa", "serve") if cpus else ("silkqa", "serve")
    return serving({**env, **(extra_env or {})}, command=command)


def table(results: list[LoadResult]) -> str:
    rows = [
        "| concurrency | requests | errors (503) | req/s | p50 ms | p95 ms | p99 ms | max ms | /healthz p50 / p95 / max ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rows.append(
            f"| {r.concurrency} | {r.requests} | {r.errors} ({r.shed}) | {r.throughput_rps} | {r.p50_ms} | {r.p95_ms} | "
            f"{r.p99_ms} | {r.max_ms} | {r.healthz_p50_ms} / {r.healthz_p95_ms} / {r.healthz_max_ms} |"
        )
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-dir", type=Path, default=ROOT / "var" / "index", help="index to copy (default var/index)")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--duration", type=float, default=60, help="seconds per run")
    p.add_argument("--sweep", help="comma-separated concurrencies, one run each")
    p.add_argument("--cpu-workers", type=int, help="SILKQA_CPU_WORKERS for the server")
    p.add_argument("--max-in-flight", type=int, help="SILKQA_MAX_IN_FLIGHT for the server")
    p.add_argument("--in-flight-wait", type=float, help="SILKQA_IN_FLIGHT_WAIT_SECONDS for the server (0: shed at once)")
    p.add_argument("--server-cpus", help="CPUs to pin the server to (taskset -c list)")
    p.add_argument("--client-cpus", help="CPUs to pin this client to once the server runs")
    args = p.parse_args()
    levels = [int(c) for c in args.sweep.split(",")] if args.sweep else [args.concurrency]
    settings = {
        "SILKQA_CPU_WORKERS": args.cpu_workers,
        "SILKQA_MAX_IN_FLIGHT": args.max_in_flight,
        "SILKQA_IN_FLIGHT_WAIT_SECONDS": args.in_flight_wait,
    }
    extra = {name: str(value) for name, value in settings.items() if value is not None}
    with (
        tempfile.TemporaryDirectory(prefix="silkqa-load-") as tmp,
        bench_server(args.index_dir, Path(tmp), extra, cpus=args.server_cpus) as server,
    ):
        if args.client_cpus:
            os.sched_setaffinity(0, {int(c) for c in args.client_cpus.split(",")})
        rss_before = rss_mb(server)
        results = []
        for level in levels:
            results.append(run_load(server.url, level, args.duration))
            print(table(results[-1:]).splitlines()[-1], flush=True)
        rss_after = rss_mb(server)
    print(table(results))
    print(f"server RSS: {rss_before} MB before, {rss_after} MB after; load average {psutil.getloadavg()[0]:.1f}")
    OUT.mkdir(exist_ok=True)
    name = f"load-{'sweep' if args.sweep else args.concurrency}-{int(time.time())}.json"
    (OUT / name).write_text(json.dumps({"results": [asdict(r) for r in results], "rss_mb": [rss_before, rss_after]}, indent=2))
    print(f"details in bench/out/{name}")


if __name__ == "__main__":
    main()
