"""Index build time, chunk count, and /v1/ask latency over 20 different
questions, against a real ``silkqa serve`` on 127.0.0.1.

    .venv/bin/python -m bench.ask_latency

The index is built from the bundled corpus into a temporary directory with
``silkqa index --force`` (timed end to end, model load included), then the
server answers 20 distinct questions from eval/dev.jsonl one after another
(after one warm-up request). The machine is shared: the load average is printed
with the figures."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from silkqa.eval.dataset import load_eval_set
from tests.support.live import server_env, serving
from tests.support.paths import ROOT


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SILKQA_INDEX_DIR": str(Path(tmp) / "index")}
        started = time.perf_counter()
        subprocess.run(["silkqa", "index", "--force"], env=server_env(env), cwd=ROOT, check=True, capture_output=True)
        wall = time.perf_counter() - started
        manifest_path = next((Path(tmp) / "index" / "builds").glob("*/manifest.json"))
        manifest = json.loads(manifest_path.read_text())
        questions = [i.question for i in load_eval_set(ROOT / "eval" / "dev.jsonl")][::11][:20]
        with serving(env) as server:
            httpx.post(server.url + "/v1/ask", json={"question": "预热 warm-up"}, timeout=120)
            latencies, abstained = [], 0
            for question in questions:
                t0 = time.perf_counter()
                response = httpx.post(server.url + "/v1/ask", json={"question": question}, timeout=120)
                latencies.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
                abstained += response.json()["abstained"]
    print(f"load average: {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"silkqa index --force: {wall:.1f} s wall (model load included); build itself {manifest['build_seconds']} s")
    print(f"chunks: {manifest['chunk_count']}  dense units: {manifest['unit_count']}  documents: {manifest['document_count']}")
    print(
        f"/v1/ask over {len(latencies)} questions: p50 {np.percentile(latencies, 50):.1f} ms, "
        f"p95 {np.percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms ({abstained} abstained)"
    )


if __name__ == "__main__":
    main()
