"""Hybrid retrieval: BM25 over jieba words and character bigrams, fused with
dense sentence similarity.

The two signals are strong on different questions. BM25 ranks Chinese
questions well and English ones barely at all (the corpus is Chinese), while
USE similarity carries English questions across languages. The fusion is a
weighted sum of the max-normalised BM25 score and the best cosine similarity of
a chunk's units, with a BM25 weight per question language
(``SILKQA_BM25_WEIGHT_ZH`` / ``_EN``); score fusion beat reciprocal-rank fusion
on the dev set (eval/RESULTS.md)."""

from __future__ import annotations

import bisect
import time
from functools import cached_property

import numpy as np

from silkqa.index.language import fold, question_language
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.lexical import tokenize
from silkqa.index.store.types import BuiltIndex
from silkqa.service.retrieval.types import FusionWeights, Hit, Query, Snapshot

# How many dense units FAISS returns per query; enough to cover every chunk
# that could reach the top ranks.
DENSE_CANDIDATES = 400


def named_documents(text: str, aliases: dict[str, frozenset[str]]) -> frozenset[str]:
    """Documents the question refers to by one of their aliases (manifest ``aliases``)."""
    folded = fold(text)
    return frozenset(doc_id for doc_id, names in aliases.items() if any(name in folded for name in names))


class Retriever:
    def __init__(self, index: BuiltIndex, embedder: Embedder, weights: FusionWeights):
        self.index = index
        self.embedder = embedder
        self.weights = weights
        # Each document's title and aliases, folded: how questions name it.
        self.document_names = {
            doc_id: frozenset(fold(a) for a in (*doc.meta.aliases, doc.meta.title) if a.strip())
            for doc_id, doc in index.documents.items()
        }
        # The year each dated document appeared ("2017年的指导意见" names it by it).
        self.document_years = {doc_id: doc.meta.date[:4] for doc_id, doc in index.documents.items() if doc.meta.date}
        self._chunk_doc = np.array([c.doc_id for c in index.chunks], dtype=object)

    def chunk_at(self, doc_id: str, offset: int) -> int | None:
        """The index of the chunk of ``doc_id`` that holds ``offset``."""
        starts, indices = self._doc_chunks.get(doc_id, ([], []))
        at = bisect.bisect_right(starts, offset) - 1
        if at < 0:
            return None
        i = indices[at]
        return i if offset < self.index.chunks[i].end else None

    @cached_property
    def _doc_chunks(self) -> dict[str, tuple[list[int], list[int]]]:
        """Each document's chunk starts (sorted) and chunk indices, for ``chunk_at``."""
        out: dict[str, tuple[list[int], list[int]]] = {}
        for i, c in sorted(enumerate(self.index.chunks), key=lambda ic: (ic[1].doc_id, ic[1].start)):
            starts, indices = out.setdefault(c.doc_id, ([], []))
            starts.append(c.start)
            indices.append(i)
        return out

    def hit(self, i: int, score: float, bm25: float, dense: float) -> Hit:
        chunk = self.index.chunks[i]
        return Hit(chunk, i, score, bm25, dense, self.index.documents[chunk.doc_id].meta.title)

    def find(self, text: str, top_k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        """The ``top_k`` best passages for ``text`` (of ``doc_ids`` only, when given)."""
        return self.search(self.analyze(text), top_k, doc_ids=doc_ids)

    def analyze(self, text: str) -> Query:
        # English words count through their Chinese translations too.
        keywords = self.index.lexical.keywords(text)
        return Query(
            text=text,
            lang=question_language(text),
            keywords=keywords,
            tokens=tuple(tokenize(keywords)),
            vector=self.embedder.encode([fold(text)])[0],
            named_documents=named_documents(text, self.document_names),
        )

    def unit_similarities(self, query: Query, unit_ids: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query to the given dense units."""
        if len(unit_ids) == 0:
            return np.zeros(0, np.float32)
        vectors: np.ndarray = self.index.dense.reconstruct_batch(np.asarray(unit_ids, dtype=np.int64))
        similarities: np.ndarray = vectors @ query.vector
        return similarities

    def dense_chunk_scores(self, query: Query, doc_ids: frozenset[str] | None = None) -> np.ndarray:
        """Best unit similarity per chunk (0 for chunks outside the candidates;
        with ``doc_ids``, every unit of those documents is a candidate)."""
        n_chunks = len(self.index.chunks)
        k = min(DENSE_CANDIDATES, self.index.dense.ntotal)
        scores = np.zeros(n_chunks, np.float32)
        if k == 0:
            return scores
        if doc_ids is not None:
            # The library's nearest units may hold none of a small document's.
            units = np.flatnonzero(np.isin(self._chunk_doc[self.index.units.chunk], list(doc_ids)))
            np.maximum.at(scores, self.index.units.chunk[units], np.maximum(self.unit_similarities(query, units), 0))
            return scores
        sims, ids = self.index.dense.search(query.vector.reshape(1, -1), k)
        valid = ids[0] >= 0
        np.maximum.at(scores, self.index.units.chunk[ids[0][valid]], np.maximum(sims[0][valid], 0))
        return scores

    def only(self, scores: np.ndarray, doc_ids: frozenset[str] | None) -> np.ndarray:
        """Chunk scores with those of documents outside ``doc_ids`` zeroed (all
        kept when None). Applied before the top k are taken, so "ask only this
        document" gets k of its own passages, not what is left of the library's k."""
        if doc_ids is None:
            return scores
        kept: np.ndarray = np.where(np.isin(self._chunk_doc, list(doc_ids)), scores, 0.0)
        return kept

    def search(
        self, query: Query, top_k: int, timings: dict[str, float] | None = None, doc_ids: frozenset[str] | None = None
    ) -> list[Hit]:
        """The ``top_k`` best chunks (of the documents ``doc_ids`` only, when
        given); ``timings``, if given, receives the milliseconds spent on bm25,
        dense and fusion (for the metrics)."""
        n = len(self.index.chunks)
        if n == 0:
            return []
        t0 = time.perf_counter()
        # Both signals are read over the chosen documents alone (BM25 normalised
        # by their best score), as if the library held only them.
        bm25 = self.only(self.index.lexical.scores(query.keywords), doc_ids)
        t1 = time.perf_counter()
        dense = self.dense_chunk_scores(query, doc_ids)
        t2 = time.perf_counter()
        w_bm25 = self.weights.bm25(query.lang)
        top_bm25 = float(bm25.max())
        fused = w_bm25 * (bm25 / top_bm25 if top_bm25 > 0 else bm25) + (1 - w_bm25) * dense
        if query.named_documents:
            named = np.isin(self._chunk_doc, list(query.named_documents))
            fused = np.where(named, fused * self.weights.named_document_boost, fused) / self.weights.named_document_boost
        order = np.argsort(-fused, kind="stable")[:top_k]
        hits = [self.hit(int(i), float(fused[i]), float(bm25[i]), float(dense[i])) for i in order if fused[i] > 0]
        if timings is not None:
            ms = {"bm25": t1 - t0, "dense": t2 - t1, "fusion": time.perf_counter() - t2}
            timings.update({stage: round(seconds * 1000, 2) for stage, seconds in ms.items()})
        return hits


def open_snapshot(index: BuiltIndex, embedder: Embedder, weights: FusionWeights) -> Snapshot:
    return Snapshot(index, Retriever(index, embedder, weights))
