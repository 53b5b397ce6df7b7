"""Metric arithmetic over per-question results: retrieval ranks, citation
support, key facts, abstention, bootstrap confidence intervals. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QuestionResult:
    """What the runner observed for one question (the metrics' only input)."""

    id: str
    lang: str
    kind: str
    category: str
    answerable: bool
    abstained: bool
    relevant_ranks: tuple[int, ...]  # 1-based ranks of retrieved passages that support a gold quote
    gold_count: int
    new_gold_at_rank: tuple[int, ...]  # ranks where a not-yet-covered gold quote is first covered
    citations: int
    supporting_citations: int
    exact_citations: int
    key_facts_ok: bool
    timings_ms: dict[str, float]


Metric = Callable[[Sequence[QuestionResult]], float | None]


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def recall_at(k: int) -> Metric:
    def metric(results: Sequence[QuestionResult]) -> float | None:
        return _mean([1.0 if any(r <= k for r in q.relevant_ranks) else 0.0 for q in results if q.answerable])

    metric.__name__ = f"recall@{k}"
    return metric


def mrr_at_10(results: Sequence[QuestionResult]) -> float | None:
    return _mean(
        [
            1.0 / min(q.relevant_ranks) if q.relevant_ranks and min(q.relevant_ranks) <= 10 else 0.0
            for q in results
            if q.answerable
        ]
    )


def ndcg_at_10(results: Sequence[QuestionResult]) -> float | None:
    """Binary gain for each passage that covers a gold quote not covered above it."""
    scores = []
    for q in results:
        if not q.answerable:
            continue
        dcg = sum(1.0 / math.log2(r + 1) for r in q.new_gold_at_rank if r <= 10)
        ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(q.gold_count, 10) + 1))
        scores.append(dcg / ideal if ideal else 0.0)
    return _mean(scores)


def citation_precision(results: Sequence[QuestionResult]) -> float | None:
    cited = [q for q in results if q.answerable and q.citations]
    total = sum(q.citations for q in cited)
    return sum(q.supporting_citations for q in cited) / total if total else None


def citation_recall(results: Sequence[QuestionResult]) -> float | None:
    return _mean([1.0 if q.supporting_citations else 0.0 for q in results if q.answerable])


def citation_integrity(results: Sequence[QuestionResult]) -> float | None:
    total = sum(q.citations for q in results)
    return sum(q.exact_citations for q in results) / total if total else None


def key_fact_accuracy(results: Sequence[QuestionResult]) -> float | None:
    return _mean([1.0 if q.key_facts_ok else 0.0 for q in results if q.answerable])


def abstention_precision(results: Sequence[QuestionResult]) -> float | None:
    abstained = [q for q in results if q.abstained]
    return _mean([0.0 if q.answerable else 1.0 for q in abstained])


def abstention_recall(results: Sequence[QuestionResult]) -> float | None:
    return _mean([1.0 if q.abstained else 0.0 for q in results if not q.answerable])


def false_abstention(results: Sequence[QuestionResult]) -> float | None:
    return _mean([1.0 if q.abstained else 0.0 for q in results if q.answerable])


METRICS: dict[str, Metric] = {
    "recall@1": recall_at(1),
    "recall@5": recall_at(5),
    "recall@10": recall_at(10),
    "mrr@10": mrr_at_10,
    "ndcg@10": ndcg_at_10,
    "citation_precision": citation_precision,
    "citation_recall": citation_recall,
    "citation_integrity": citation_integrity,
    "key_fact_accuracy": key_fact_accuracy,
    "abstention_precision": abstention_precision,
    "abstention_recall": abstention_recall,
    "false_abstention": false_abstention,
}


def bootstrap_ci(
    results: Sequence[QuestionResult], metric: Metric, samples: int = 1000, seed: int = 0
) -> tuple[float, float] | None:
    """95% percentile interval from resampling questions with replacement."""
    if metric(results) is None:
        return None
    rng = np.random.default_rng(seed)
    n = len(results)
    values = []
    for _ in range(samples):
        picked = [results[i] for i in rng.integers(0, n, n)]
        value = metric(picked)
        if value is not None:
            values.append(value)
    if not values:
        return None
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None
