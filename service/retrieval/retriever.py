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

import numpy as np

from silkqa.index.language import fold, question_language
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.hybrid import hybrid_search
from silkqa.index.store.lexical import tokenize
from silkqa.index.store.types import DocIds, IndexView
from silkqa.service.retrieval.types import FusionWeights, Hit, Query, Snapshot

# How many dense units the store returns per query; enough to cover every
# chunk that could reach the top ranks.
DENSE_CANDIDATES = 400


def named_documents(text: str, aliases: dict[str, frozenset[str]]) -> frozenset[str]:
    """Documents the question refers to by one of their aliases (manifest ``aliases``)."""
    folded = fold(text)
    return frozenset(doc_id for doc_id, names in aliases.items() if any(name in folded for name in names))


class Retriever:
    def __init__(self, index: IndexView, embedder: Embedder, weights: FusionWeights):
        self.index = index
        self.embedder = embedder
        self.weights = weights
        # Each document's title and aliases, folded: how questions name it.
        self.document_names = index.aliases()
        # The year each dated document appeared ("2017年的指导意见" names it by it).
        self.document_years = {doc_id: date[:4] for doc_id, date in index.dates().items()}

    def chunk_at(self, doc_id: str, offset: int) -> int | None:
        """The key of the chunk of ``doc_id`` that holds ``offset``."""
        for key in self.index.chunk_keys(doc_id):
            chunk = self.index.chunk(int(key))
            if chunk.start <= offset < chunk.end:
                return int(key)
        return None

    def hit(self, key: int, score: float, bm25: float, dense: float) -> Hit:
        chunk = self.index.chunk(key)
        return Hit(chunk, key, score, bm25, dense, self.index.documents[chunk.doc_id].meta.title)

    def find(self, text: str, top_k: int, doc_ids: DocIds = None) -> list[Hit]:
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
        similarities: np.ndarray = self.index.unit_vectors(np.asarray(unit_ids, dtype=np.int64)) @ query.vector
        return similarities

    def search(self, query: Query, top_k: int, timings: dict[str, float] | None = None, doc_ids: DocIds = None) -> list[Hit]:
        """The ``top_k`` best chunks, among the documents ``doc_ids`` when given
        (filtered in the store, before the top is taken); ``timings``, if given,
        receives the milliseconds spent on bm25, dense and fusion (for the metrics)."""
        fused = hybrid_search(
            self.index,
            query.keywords,
            query.vector,
            top_k,
            self.weights.bm25(query.lang),
            DENSE_CANDIDATES,
            doc_ids,
            query.named_documents,
            self.weights.named_document_boost,
            timings,
        )
        return [self.hit(f.chunk, f.score, f.bm25, f.dense) for f in fused]


def open_snapshot(index: IndexView, embedder: Embedder, weights: FusionWeights) -> Snapshot:
    return Snapshot(index, Retriever(index, embedder, weights))
