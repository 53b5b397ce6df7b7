"""Soak: the load test's clients for ``--duration`` seconds (10 minutes by
default) against one ``silkqa serve``, with the server's RSS sampled every
``--every`` seconds, to show memory stays flat under sustained traffic.

    python -m bench.soak --concurrency 8 --duration 600

Prints the samples, RSS at the start and end, the growth over the second half
(after warm-up) and the load figures; writes bench/out/soak-<time>.csv."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.load import OUT, bench_server, rss_mb, run_load, table
from tests.support.paths import ROOT


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-dir", type=Path, default=ROOT / "var" / "index")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--every", type=float, default=10, help="seconds between RSS samples")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="silkqa-soak-") as tmp, bench_server(args.index_dir, Path(tmp)) as server:
        began = time.monotonic()
        samples = [(0.0, rss_mb(server))]

        def sample() -> None:  # called by the load's probe every 0.25 s
            elapsed = time.monotonic() - began
            if elapsed - samples[-1][0] >= args.every:
                samples.append((round(elapsed, 1), rss_mb(server)))

        result = run_load(server.url, args.concurrency, args.duration, on_tick=sample)
        samples.append((round(time.monotonic() - began, 1), rss_mb(server)))
    OUT.mkdir(exist_ok=True)
    csv = OUT / f"soak-{int(time.time())}.csv"
    csv.write_text("seconds,rss_mb\n" + "".join(f"{t},{m}\n" for t, m in samples))
    half = [m for t, m in samples if t >= args.duration / 2]
    print(table([result]))
    print(f"RSS: {samples[0][1]} MB at start, {samples[-1][1]} MB at end, max {max(m for _, m in samples)} MB")
    print(f"second half: {half[0]} -> {half[-1]} MB ({half[-1] - half[0]:+.1f} MB); {len(samples)} samples in {csv}")


if __name__ == "__main__":
    main()
