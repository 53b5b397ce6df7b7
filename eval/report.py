"""Reports: metrics with confidence intervals, split by language and kind;
JSON for machines, Markdown for people, a PNG chart comparing runs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from silkqa.eval.metrics import METRICS, QuestionResult, bootstrap_ci, percentile
from silkqa.eval.runner import RunOutput

HEADLINE = (
    "recall@1",
    "recall@5",
    "mrr@10",
    "citation_precision",
    "citation_recall",
    "key_fact_accuracy",
    "abstention_recall",
    "false_abstention",
)
METRIC_NAMES = tuple(METRICS)
SPLIT_METRICS = (
    "abstention_recall",
    "recall@1",
    "recall@5",
    "citation_precision",
    "citation_recall",
    "key_fact_accuracy",
    "false_abstention",
)


def _metric_block(results: list[QuestionResult], names: Iterable[str] = METRIC_NAMES, with_ci: bool = True) -> dict[str, Any]:
    block = {}
    for name in names:
        value = METRICS[name](results)
        ci = bootstrap_ci(results, METRICS[name]) if with_ci and value is not None else None
        block[name] = {
            "value": None if value is None else round(value, 4),
            "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)],
        }
    return block


def _latency(results: list[QuestionResult]) -> dict[str, Any]:
    stages = sorted({k for r in results for k in r.timings_ms})
    return {
        s: {f"p{q}": round(percentile([r.timings_ms[s] for r in results if s in r.timings_ms], q) or 0.0, 2) for q in (50, 95)}
        for s in stages
    }


def build_report(output: RunOutput, set_path: str, label: str) -> dict[str, Any]:
    results = output.results
    splits = {}
    for key in ("lang", "kind", "category"):
        groups: dict[str, list[QuestionResult]] = {}
        for r in results:
            groups.setdefault(getattr(r, key), []).append(r)
        names = METRICS.keys() if key == "lang" else SPLIT_METRICS
        splits[key] = {g: {"n": len(rs), **_metric_block(rs, names)} for g, rs in sorted(groups.items())}
    return {
        "label": label,
        "set": set_path,
        "target": output.target,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": output.config,
        "n": len(results),
        "answerable": sum(r.answerable for r in results),
        "metrics": _metric_block(results),
        "splits": splits,
        "latency_ms": _latency(results),
        "questions": [
            {
                **asdict(rec.result),
                "question": rec.question,
                "expected": rec.expected,
                "answer": rec.answer,
                "confidence": rec.confidence,
                "top_passages": rec.top_passages,
                "citations_detail": rec.citations,
            }
            for rec in output.records
        ],
    }


def fmt(cell: dict[str, Any] | None) -> str:
    if not cell or cell["value"] is None:
        return "–"
    ci = cell.get("ci95")
    return f"{cell['value']:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def _failures(report: dict[str, Any]) -> list[str]:
    lines = []
    for q in report["questions"]:
        reasons = []
        if q["answerable"] and not any(r <= 5 for r in q["relevant_ranks"]):
            reasons.append("gold not in top 5")
        if q["answerable"] and q["abstained"]:
            reasons.append("false abstention")
        if not q["answerable"] and not q["abstained"]:
            reasons.append("answered an unanswerable question")
        if q["answerable"] and q["citations"] and q["supporting_citations"] < q["citations"]:
            reasons.append(f"{q['citations'] - q['supporting_citations']} unsupported citation(s)")
        if not reasons:
            continue
        lines.append(
            f"- **{q['id']}** ({q['lang']}, {q['kind']}): {q['question']} — {', '.join(reasons)}; "
            f"confidence {q['confidence']:.3f}"
        )
        for e in q["expected"][:2]:
            lines.append(f"  - expected: {e}")
        for p in q["top_passages"]:
            lines.append(f"  - retrieved #{p['rank']} {p['chunk_id']} ({p['section']}): {p['text'][:70]}")
        for c in q["citations_detail"][:2]:
            lines.append(f"  - cited [{c['marker']}] {c['doc_id']}: {c['quote'][:70]}")
    return lines


def markdown(report: dict[str, Any]) -> str:
    m = report["metrics"]
    out = [
        f"# Eval report: {report['label']}",
        "",
        f"Set `{report['set']}` ({report['n']} questions, {report['answerable']} answerable) "
        f"against `{report['target']}`, {report['created']}. Values with 95% bootstrap intervals.",
        "",
        "| metric | all | Chinese (zh) | English (en) |",
        "| --- | --- | --- | --- |",
    ]
    zh = report["splits"]["lang"].get("zh", {})
    en = report["splits"]["lang"].get("en", {})
    for name in METRICS:
        out.append(f"| {name} | {fmt(m[name])} | {fmt(zh.get(name))} | {fmt(en.get(name))} |")
    for key in ("lang", "kind", "category"):
        out += [
            "",
            f"## By {key}",
            "",
            "| " + key + " | n | " + " | ".join(SPLIT_METRICS) + " |",
            "|" + " --- |" * (len(SPLIT_METRICS) + 2),
        ]
        for group, block in report["splits"][key].items():
            out.append(f"| {group} | {block['n']} | " + " | ".join(fmt(block[n]) for n in SPLIT_METRICS) + " |")
    out += ["", "## Latency (ms)", "", "| stage | p50 | p95 |", "| --- | --- | --- |"]
    out += [f"| {s} | {v['p50']} | {v['p95']} |" for s, v in report["latency_ms"].items()]
    failures = _failures(report)
    out += ["", f"## Failures ({sum(1 for line in failures if line.startswith('- **'))})", ""] + (failures or ["none"])
    return "\n".join(out) + "\n"


def summary(report: dict[str, Any]) -> str:
    m = report["metrics"]
    return "  ".join(f"{name}={m[name]['value']:.3f}" for name in HEADLINE if m[name]["value"] is not None)


def chart(reports: list[dict[str, Any]], path: Path, metrics: tuple[str, ...] = HEADLINE) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    width = 0.8 / max(len(reports), 1)
    x = np.arange(len(metrics))
    many = len(reports) > 3
    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(metrics)) + (4 if many else 0), 4.5))
    for i, report in enumerate(reports):
        values = [report["metrics"][n]["value"] or 0 for n in metrics]
        lows = [v - (report["metrics"][n]["ci95"] or [v, v])[0] for n, v in zip(metrics, values, strict=True)]
        highs = [(report["metrics"][n]["ci95"] or [v, v])[1] - v for n, v in zip(metrics, values, strict=True)]
        ax.bar(x + i * width, values, width, yerr=[lows, highs], capsize=2, label=report["label"])
    ax.set_xticks(x + width * (len(reports) - 1) / 2, metrics, rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (95% CI)")
    if many:  # beside the axes, where it hides no bar
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize=8, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Side-by-side headline metrics of two reports, with the change."""
    rows = [f"| metric | {a['label']} | {b['label']} | change |", "| --- | --- | --- | --- |"]
    for name in METRICS:
        va, vb = a["metrics"][name]["value"], b["metrics"][name]["value"]
        delta = "–" if va is None or vb is None else f"{vb - va:+.3f}"
        rows.append(f"| {name} | {fmt(a['metrics'][name])} | {fmt(b['metrics'][name])} | {delta} |")
    return "\n".join(rows)


def write(report: dict[str, Any], directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "report.json", "markdown": directory / "report.md", "png": directory / "report.png"}
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=1))
    paths["markdown"].write_text(markdown(report), encoding="utf-8")
    chart([report], paths["png"])
    return paths
