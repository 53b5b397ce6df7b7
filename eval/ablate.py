"""Retrieval and answer ablations on an evaluation set (writes the table in
eval/RESULTS.md and a comparison chart).

    python -m silkqa.eval.ablate eval/dev.jsonl --out eval/ablation

Each configuration is the shipped pipeline with settings changed, except two
that exist only here because they lost: chunk-level dense retrieval (one vector
per chunk) and reciprocal-rank fusion (the first fusion silkqa shipped)."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from silkqa.eval import report as reports
from silkqa.eval.dataset import EvalItem, load_eval_set
from silkqa.eval.runner import InProcessTarget, run
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.hybrid import dense_chunk_scores
from silkqa.index.store.types import DocIds, IndexView
from silkqa.service.answering.pipeline import AnswerPipeline
from silkqa.service.retrieval.retriever import DENSE_CANDIDATES, Retriever
from silkqa.service.retrieval.types import Hit, Query, Snapshot
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings


def all_chunks(retriever: Retriever) -> np.ndarray:
    """Every chunk key of the library (this study's libraries are small)."""
    index = retriever.index
    return np.concatenate([index.chunk_keys(doc_id) for doc_id in index.documents])


def only(index: IndexView, keys: np.ndarray, scores: np.ndarray, doc_ids: DocIds) -> np.ndarray:
    """``scores`` of chunk ``keys`` with those outside ``doc_ids`` zeroed (all kept when None)."""
    if doc_ids is None:
        return scores
    kept: np.ndarray = np.where(np.isin(index.document_of(keys), list(doc_ids)), scores, 0.0)
    return kept


class ChunkDenseRetriever(Retriever):
    """Dense only, one vector per whole chunk (the naive baseline)."""

    def __init__(self, base: Retriever):
        super().__init__(base.index, base.embedder, base.weights)
        self._keys = all_chunks(base)
        self._vectors = self.embedder.encode([self.index.chunk(int(k)).text for k in self._keys])

    def search(self, query: Query, top_k: int, timings: dict[str, float] | None = None, doc_ids: DocIds = None) -> list[Hit]:
        sims = only(self.index, self._keys, self._vectors @ query.vector, doc_ids)
        order = np.argsort(-sims)[:top_k]
        return [self.hit(int(self._keys[i]), float(sims[i]), 0.0, float(sims[i])) for i in order]


class RankFusionRetriever(Retriever):
    """Weighted reciprocal-rank fusion of the BM25 and dense rankings."""

    def __init__(self, base: Retriever, bm25_zh: float = 0.7, bm25_en: float = 0.15, k: int = 60):
        super().__init__(base.index, base.embedder, base.weights)
        self._w = {"zh": bm25_zh, "en": bm25_en}
        self._k = k
        self._keys = all_chunks(base)

    @staticmethod
    def _ranks(scores: np.ndarray) -> np.ndarray:
        ranks = np.empty(len(scores))
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        ranks[scores <= 0] = np.inf
        return ranks

    def search(self, query: Query, top_k: int, timings: dict[str, float] | None = None, doc_ids: DocIds = None) -> list[Hit]:
        bm25 = self.index.lexical_scores(query.keywords, self._keys)
        best = dense_chunk_scores(self.index, query.vector, DENSE_CANDIDATES, None)
        dense = np.array([best.get(int(k), 0.0) for k in self._keys], np.float32)
        w = self._w[query.lang]
        fused = only(
            self.index,
            self._keys,
            (w / (self._k + self._ranks(bm25)) + (1 - w) / (self._k + self._ranks(dense))) * (self._k + 1),
            doc_ids,
        )
        order = np.argsort(-fused, kind="stable")[:top_k]
        return [self.hit(int(self._keys[i]), float(fused[i]), float(bm25[i]), float(dense[i])) for i in order]


@dataclass
class Config:
    label: str
    settings: dict[str, Any] = field(default_factory=dict)
    retriever: Callable[[Retriever], Retriever] | None = None  # a variant that exists only in this study


CONFIGS = [
    Config(
        "BM25 words only",
        {
            "bm25_bigrams": False,
            "bm25_bilingual": False,
            "bm25_weight_zh": 1.0,
            "bm25_weight_en": 1.0,
            "named_document_boost": 1.0,
        },
    ),
    Config("BM25 words+bigrams only", {"bm25_weight_zh": 1.0, "bm25_weight_en": 1.0, "named_document_boost": 1.0}),
    Config("dense, chunk-level", {"named_document_boost": 1.0}, ChunkDenseRetriever),
    Config(
        "dense, sentence-level",
        {"embed_section_path": False, "bm25_weight_zh": 0.0, "bm25_weight_en": 0.0, "named_document_boost": 1.0},
    ),
    Config("dense, sentence+section title", {"bm25_weight_zh": 0.0, "bm25_weight_en": 0.0, "named_document_boost": 1.0}),
    Config(
        "hybrid RRF 0.7/0.15 (v0.1 default)",
        {"bm25_bigrams": False, "bm25_bilingual": False, "named_document_boost": 1.0},
        RankFusionRetriever,
    ),
    Config("hybrid score fusion, no document names", {"named_document_boost": 1.0}),
    Config("hybrid score fusion, no English→Chinese expansion", {"bm25_bilingual": False, "bm25_weight_en": 0.1}),
    Config("hybrid score fusion, no titles in BM25", {"bm25_include_titles": False}),
    Config("default (score fusion + bigrams + document names)", {}),
    Config("default, answers cite 1 sentence", {"answer_max_sentences": 1}),
    Config("default, answers cite up to 3 sentences", {"answer_max_sentences": 3}),
]


def run_config(config: Config, items: list[EvalItem], set_path: str, embedder: Embedder, work: Path) -> dict[str, Any]:
    index_keys = ("bm25_bigrams", "bm25_bilingual", "bm25_include_titles", "embed_section_path", "chunk_max_tokens")
    index_part = json.dumps({k: v for k, v in config.settings.items() if k in index_keys}, sort_keys=True)
    settings = Settings(index_dir=work / str(abs(hash(index_part))), **config.settings)
    runtime = Runtime.open(settings, embedder)
    target = InProcessTarget.of(runtime, config.label)
    if config.retriever is not None:
        snapshot = runtime.library.current()
        variant = Snapshot(snapshot.index, config.retriever(snapshot.retriever))
        target.pipeline = AnswerPipeline(Fixed(variant), settings.answering_options())
    return reports.build_report(run(items, target), set_path, config.label)


@dataclass(frozen=True)
class Fixed:
    """A snapshot source that always serves one snapshot (a variant's)."""

    snapshot: Snapshot

    def current(self) -> Snapshot:
        return self.snapshot


def table(rows: list[dict[str, Any]]) -> str:
    cols = (
        "recall@1",
        "recall@5",
        "mrr@10",
        "ndcg@10",
        "citation_precision",
        "citation_recall",
        "key_fact_accuracy",
        "abstention_recall",
        "false_abstention",
    )
    out = ["| configuration | lang | " + " | ".join(cols) + " |", "|" + " --- |" * (len(cols) + 2)]
    for r in rows:
        for lang in ("zh", "en"):
            block = r["splits"]["lang"][lang]
            out.append(f"| {r['label']} | {lang} | " + " | ".join(reports.fmt(block.get(c)) for c in cols) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set")
    parser.add_argument("--out", default="eval/ablation")
    args = parser.parse_args()
    items = load_eval_set(Path(args.set))
    embedder = Embedder()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        rows = [run_config(c, items, args.set, embedder, Path(work)) for c in CONFIGS]
    (out / "ablation.md").write_text(table(rows) + "\n", encoding="utf-8")
    (out / "ablation.json").write_text(
        json.dumps([{k: v for k, v in r.items() if k != "questions"} for r in rows], ensure_ascii=False, indent=1)
    )
    reports.chart(
        [r for r in rows if "answers cite" not in r["label"]], out / "ablation.png", ("recall@1", "recall@5", "mrr@10", "ndcg@10")
    )
    print(table(rows))


if __name__ == "__main__":
    main()
