"""Hybrid retrieval: BM25 over jieba words fused with dense sentence scores.

The two signals are strong on different questions. BM25 over jieba words ranks
Chinese questions well and English ones barely at all (the corpus is Chinese),
while USE sentence similarity carries English questions across languages. So
the fusion is weighted reciprocal rank fusion with a BM25 weight that depends
on the question's language (``SILKQA_BM25_WEIGHT_ZH`` / ``_EN``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.build import BuiltIndex
from index.chunking import Chunk
from index.embedding import Embedder
from index.lexical import fold, tokenize

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
# How many dense units FAISS returns per query; enough to cover every chunk
# that could reach the top ranks.
DENSE_CANDIDATES = 400


@dataclass(frozen=True)
class FusionWeights:
    bm25_zh: float = 0.7
    bm25_en: float = 0.15
    rrf_k: int = 60

    def bm25(self, lang: str) -> float:
        return self.bm25_zh if lang == "zh" else self.bm25_en


@dataclass(frozen=True)
class Query:
    text: str
    lang: str  # "zh" | "en"
    tokens: tuple[str, ...]
    vector: np.ndarray


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    index: int  # position in the index's chunk list
    score: float  # fused, in [0, 1]
    bm25: float
    dense: float  # best unit cosine similarity


def detect_language(text: str) -> str:
    """'zh' when Chinese characters carry the question, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    return "zh" if cjk >= 2 and cjk >= latin_words else "en"


def _ranks(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """1-based rank of every entry by descending score; inf where ``mask`` is false."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    ranks[~mask] = np.inf
    return ranks


class Retriever:
    def __init__(self, index: BuiltIndex, embedder: Embedder, weights: FusionWeights = FusionWeights()):
        self.index = index
        self.embedder = embedder
        self.weights = weights

    def analyze(self, text: str) -> Query:
        return Query(
            text=text,
            lang=detect_language(text),
            tokens=tuple(tokenize(text)),
            vector=self.embedder.encode([fold(text)])[0],
        )

    def unit_similarities(self, query: Query, unit_ids: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query to the given dense units."""
        if len(unit_ids) == 0:
            return np.zeros(0, np.float32)
        vectors = self.index.dense.reconstruct_batch(np.asarray(unit_ids, dtype=np.int64))
        return vectors @ query.vector

    def dense_chunk_scores(self, query: Query) -> np.ndarray:
        """Best unit similarity per chunk (0 for chunks outside the candidates)."""
        n_chunks = len(self.index.chunks)
        k = min(DENSE_CANDIDATES, self.index.dense.ntotal)
        scores = np.zeros(n_chunks, np.float32)
        if k == 0:
            return scores
        sims, ids = self.index.dense.search(query.vector.reshape(1, -1), k)
        valid = ids[0] >= 0
        np.maximum.at(scores, self.index.units.chunk[ids[0][valid]], np.maximum(sims[0][valid], 0))
        return scores

    def search(self, query: Query, top_k: int) -> list[Hit]:
        n = len(self.index.chunks)
        if n == 0:
            return []
        bm25 = self.index.lexical.scores(list(query.tokens))
        dense = self.dense_chunk_scores(query)
        w_bm25 = self.weights.bm25(query.lang)
        k = self.weights.rrf_k
        fused = w_bm25 / (k + _ranks(bm25, bm25 > 0)) + (1 - w_bm25) / (k + _ranks(dense, dense > 0))
        fused = fused / (1.0 / (k + 1))  # 1.0 = first on both lists
        order = np.argsort(-fused, kind="stable")[:top_k]
        return [
            Hit(self.index.chunks[i], int(i), float(fused[i]), float(bm25[i]), float(dense[i]))
            for i in order
            if fused[i] > 0
        ]
