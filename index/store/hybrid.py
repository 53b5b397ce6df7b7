"""Hybrid search over any store: BM25 and dense candidates fused by one
weighted score sum (``service.retrieval`` chooses the weights).

The fusion is silkqa's own, not a store's ranker: a chunk's dense score is the
best cosine of its *units* (sentences, context), BM25 is max-normalised over
the (filtered) library, and documents a question names are boosted. Milvus'
``hybrid_search`` rankers (RRF, or weights over arctan- or min-max-normalised
scores) can do none of the three, so both backends give their BM25 and dense
candidates and this module fuses them, identically.

It is exact: a chunk outside the candidates has no dense score (only the top
``dense_candidates`` units count, as always) and a BM25 score below the last
lexical candidate's, so it cannot outrank the ``limit``-th fused candidate
once that one scores above ``bm25_weight`` times the last candidate's
normalised BM25; the lexical candidates are widened until it does."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from silkqa.index.store.types import DocIds, IndexView

_FIRST_LEXICAL = 64
_MAX_LEXICAL = 1 << 16


@dataclass(frozen=True)
class Fused:
    chunk: int  # key
    score: float  # fused, in [0, 1]
    bm25: float
    dense: float  # best unit cosine similarity


def dense_chunk_scores(view: IndexView, vector: np.ndarray, candidates: int, doc_ids: DocIds) -> dict[int, float]:
    """Best unit similarity (floored at 0) per chunk among the ``candidates`` nearest units."""
    hits = view.search_dense(vector, candidates, doc_ids)
    best: dict[int, float] = {}
    for chunk, sim in zip(hits.chunks.tolist(), hits.similarities.tolist(), strict=True):
        if sim > best.get(chunk, 0.0):
            best[chunk] = sim
    return best


def hybrid_search(
    view: IndexView,
    keywords: str,
    vector: np.ndarray,
    limit: int,
    bm25_weight: float,
    dense_candidates: int,
    doc_ids: DocIds = None,
    named: frozenset[str] = frozenset(),
    named_boost: float = 1.0,
    timings: dict[str, float] | None = None,
    depth: int = _FIRST_LEXICAL,
) -> list[Fused]:
    """The ``limit`` best chunks (restricted to ``doc_ids``), fused; chunks of
    the ``named`` documents have their score multiplied by ``named_boost``
    (then everything is divided by it, to stay in [0, 1])."""
    t0 = time.perf_counter()
    boosted = frozenset(named if doc_ids is None else named & doc_ids) if named_boost != 1.0 else frozenset()
    depth = max(depth, limit)
    bm25: dict[int, float] = {}
    top_bm25 = 0.0
    floors: list[float] = []  # per lexical search: the score below which it saw nothing
    for i, filter_ in enumerate([doc_ids, boosted] if boosted else [doc_ids]):
        found = view.search_lexical(keywords, depth, filter_)
        bm25.update(zip(found.keys.tolist(), found.scores.tolist(), strict=True))
        if i == 0 and len(found):
            top_bm25 = float(found.scores[0])
        floors.append(float(found.scores[-1]) if len(found) == depth else 0.0)
    t1 = time.perf_counter()
    dense = dense_chunk_scores(view, vector, dense_candidates, doc_ids)
    t2 = time.perf_counter()
    missing = np.array([c for c in dense if c not in bm25], np.int64)
    if len(missing):
        bm25.update(zip(missing.tolist(), view.lexical_scores(keywords, missing).tolist(), strict=True))
    t3 = time.perf_counter()
    chunks = np.array(sorted(bm25.keys() | dense.keys()), np.int64)
    lexical = np.array([bm25.get(c, 0.0) for c in chunks.tolist()], np.float32)
    semantic = np.array([dense.get(c, 0.0) for c in chunks.tolist()], np.float32)
    fused = bm25_weight * (lexical / top_bm25 if top_bm25 > 0 else lexical) + (1 - bm25_weight) * semantic
    if boosted and len(chunks):
        in_named = np.isin(np.array(view.document_of(chunks), dtype=object), list(boosted))
        fused = np.where(in_named, fused * named_boost, fused) / named_boost
    order = np.argsort(-fused, kind="stable")[:limit]
    kth = float(fused[order[-1]]) if len(order) == limit else 0.0
    # A chunk no lexical search reached scores at most this: widen until the top is settled.
    unseen = max(floors) * bm25_weight / top_bm25 if top_bm25 > 0 else 0.0
    if unseen > kth and depth < _MAX_LEXICAL:
        return hybrid_search(
            view, keywords, vector, limit, bm25_weight, dense_candidates, doc_ids, named, named_boost, timings, depth * 4
        )
    if timings is not None:
        ms = {"bm25": (t1 - t0) + (t3 - t2), "dense": t2 - t1, "fusion": time.perf_counter() - t3}
        timings.update({stage: round(seconds * 1000, 2) for stage, seconds in ms.items()})
    return [Fused(int(chunks[i]), float(fused[i]), float(lexical[i]), float(semantic[i])) for i in order if fused[i] > 0]
