"""Latency of each answer mode, and how much of the local model's output survives
verification, over the answerable questions of the dev set.

    .venv/bin/python -m bench.modes --questions 20 --out bench/MODES.md

Extractive mode answers every answerable question; generative mode (the local
Qwen2.5-Coder-0.5B-Instruct, ``SILKQA_LLM_BACKEND=local`` not needed: the
bench loads it itself) answers ``--questions`` of them, spread evenly over the
set. Each question is asked once in-process (no HTTP), after one warm-up
question per mode. The verified-sentence rate counts every sentence the model
generated, including those of answers that fell back to the extractive one."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from silkqa.eval.dataset import load_eval_set
from silkqa.service.answering.generative.backends.local import LocalGenerator
from silkqa.service.answering.types import Question
from silkqa.service.library.live import LiveLibrary
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings
from tests.support.paths import EVAL


@dataclass
class Run:
    question_id: str
    seconds: float
    mode: str
    sentences: int = 0
    verified: int = 0
    attributed: int = 0  # verified only after the verifier gave them the passage they had not cited


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(runtime: Runtime, items, mode: str, top_k: int) -> list[Run]:
    runs = []
    for item in items:
        started = time.perf_counter()
        answer = runtime.pipeline.answer(Question(item.question, top_k=top_k, mode=mode))
        report = answer.verification
        runs.append(
            Run(
                item.id,
                time.perf_counter() - started,
                answer.mode,
                len(report.checked) if report else 0,
                report.verified if report else 0,
                report.attributed if report else 0,
            )
        )
        print(
            f"{mode:10} {item.id:8} {runs[-1].seconds:7.2f}s -> {answer.mode}"
            + (f", {report.verified}/{len(report.checked)} verified" if report else ""),
            flush=True,
        )
    return runs


def report(extractive: list[Run], generative: list[Run], settings: Settings, load_seconds: float) -> str:
    sentences = sum(r.sentences for r in generative)
    verified = sum(r.verified for r in generative)
    attributed = sum(r.attributed for r in generative)
    answered = sum(1 for r in generative if r.mode == "generative")

    def row(name: str, runs: list[Run]) -> str:
        seconds = [r.seconds for r in runs]
        return (
            f"| {name} | {len(runs)} | {statistics.median(seconds) * 1000:.0f} | "
            f"{percentile(seconds, 0.9) * 1000:.0f} | {max(seconds) * 1000:.0f} |"
        )

    return "\n".join(
        [
            "# Answer modes: latency and verification",
            "",
            f"Measured {time.strftime('%Y-%m-%d')} with `python -m bench.modes` on {os.cpu_count()} cores "
            f"(load average {os.getloadavg()[0]:.1f} at the end: the machine was shared), in-process, "
            f"`SILKQA_LLM_MAX_NEW_TOKENS={settings.llm_max_new_tokens}`, `SILKQA_LLM_PASSAGES={settings.llm_passages}`, "
            f"prompt `{settings.llm_prompt_version}`.",
            "",
            "| mode | questions | p50 ms | p90 ms | max ms |",
            "| --- | --- | --- | --- | --- |",
            row("extractive", extractive),
            row("generative (local Qwen2.5-Coder-0.5B)", generative),
            "",
            f"Local model load (converted cache): {load_seconds:.1f} s.",
            "",
            "## Verification of the local model's answers",
            "",
            f"- generated sentences: {sentences}; verified (cited, numbers and terms in the cited passage): "
            f"{verified} ({verified / sentences:.0%}); of these, {verified - attributed} cited their passage themselves "
            f"and {attributed} were attributed by the verifier (cited nothing; exactly one passage passed every check)"
            if sentences
            else "- no sentences were generated",
            f"- answers given in generative mode: {answered} of {len(generative)}; the others fell back to "
            "the extractive answer (too few verified sentences)",
            "",
            "| question | seconds | mode | verified / generated | attributed |",
            "| --- | --- | --- | --- | --- |",
            *[
                f"| {r.question_id} | {r.seconds:.1f} | {r.mode} | {r.verified} / {r.sentences} | {r.attributed} |"
                for r in generative
            ],
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default=str(EVAL / "dev.jsonl"))
    parser.add_argument("--questions", type=int, default=20, help="questions for generative mode")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--out", help="write the Markdown report here")
    args = parser.parse_args()

    settings = Settings()
    answerable = [item for item in load_eval_set(Path(args.set)) if item.answerable]
    count = min(args.questions, len(answerable))
    sample = [answerable[i * len(answerable) // count] for i in range(count)]  # spread over zh and en
    library = LiveLibrary.open(settings)
    started = time.perf_counter()
    generator = LocalGenerator(settings.llm_model_dir, settings.llm_repetition_penalty)
    load_seconds = time.perf_counter() - started
    runtime = Runtime(library, generator)
    for mode in ("extractive", "generative"):  # warm-up
        runtime.pipeline.answer(Question(answerable[0].question, top_k=args.top_k, mode=mode))
    extractive = measure(runtime, answerable, "extractive", args.top_k)
    generative = measure(runtime, sample, "generative", args.top_k)
    text = report(extractive, generative, settings, load_seconds)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
