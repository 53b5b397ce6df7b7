"""In-process cost of answering: every question of eval/dev.jsonl through the
question path, after one warm-up, with the stage timings the answers report.

    .venv/bin/python -m bench.answer_latency [--index DIR] [--label NAME]

Prints one JSON line: p50 and p95 (ms) of the answer stage (question analysis,
judging, composing) and of the whole path (embedding and retrieval included).
To compare two versions in one run, install each into its own directory and
alternate them (the issue-11 figures in eval/RESULTS.md were taken so):

    pip install --no-deps --target /tmp/before <old checkout>
    PYTHONPATH=/tmp/before python bench/answer_latency.py --label before
    PYTHONPATH=/tmp/after  python bench/answer_latency.py --label after

Only the public question path is used, so the script runs against any version
that has ``Runtime.open`` and ``Question``."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from silkqa.service.answering.types import Question
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings

DEV = Path(__file__).resolve().parent.parent / "eval" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="var/index", help="index directory (built if missing)")
    parser.add_argument("--label", default="")
    parser.add_argument("--set", default=str(DEV))
    args = parser.parse_args()
    runtime = Runtime.open(Settings(index_dir=args.index))
    questions = [json.loads(line)["question"] for line in Path(args.set).read_text(encoding="utf-8").splitlines() if line]
    runtime.pipeline.answer(Question("预热 warm-up", top_k=5))
    answer_ms, total_ms = [], []
    for question in questions:
        started = time.perf_counter()
        answer = runtime.pipeline.answer(Question(question, top_k=5))
        total_ms.append((time.perf_counter() - started) * 1000)
        answer_ms.append(answer.timings_ms.get("answer", 0.0))
    print(
        json.dumps(
            {
                "label": args.label,
                "questions": len(questions),
                "answer_p50_ms": round(float(np.percentile(answer_ms, 50)), 2),
                "answer_p95_ms": round(float(np.percentile(answer_ms, 95)), 2),
                "total_p50_ms": round(float(np.percentile(total_ms, 50)), 2),
                "total_p95_ms": round(float(np.percentile(total_ms, 95)), 2),
                "load": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
