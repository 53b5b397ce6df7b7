"""The data of the retrieval stage: a analysed query, a ranked passage, and the
snapshot one request reads from start to end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from silkqa.index.ingest.types import Chunk
from silkqa.index.language import Lang
from silkqa.index.store.types import IndexedDocument, IndexView

if TYPE_CHECKING:
    from silkqa.service.retrieval.retriever import Retriever


@dataclass(frozen=True)
class FusionWeights:
    """How BM25 and dense scores are fused (built from ``Settings``)."""

    bm25_zh: float
    bm25_en: float
    # Multiplier on the fused score of documents the question names ("指导意见",
    # "the 2022 opinion"): people who name a document mean it.
    named_document_boost: float

    def bm25(self, lang: Lang) -> float:
        return self.bm25_zh if lang == "zh" else self.bm25_en


@dataclass(frozen=True)
class Query:
    text: str
    lang: Lang
    keywords: str  # the text plus Chinese translations of its English words (BM25 input)
    tokens: tuple[str, ...]
    vector: np.ndarray
    named_documents: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    index: int  # the chunk's key in the store (what ``index.units.sentence_units`` takes)
    score: float  # fused, in [0, 1]
    bm25: float
    dense: float  # best unit cosine similarity
    title: str  # the document's title, from the same snapshot as the chunk


class UnknownDocument(KeyError):
    """No document with that id in the snapshot."""


@dataclass(frozen=True)
class Snapshot:
    """Everything one request reads, from its start to its end: one published
    state of the library's store (documents, chunks, vectors, BM25) and the
    retriever over it. An update publishes a new snapshot; requests already
    running keep theirs, so a request never sees two states."""

    index: IndexView
    retriever: Retriever

    @property
    def build_id(self) -> str:
        return self.index.manifest.build_id

    def documents(self) -> list[IndexedDocument]:
        return list(self.index.documents.values())

    def document(self, doc_id: str) -> IndexedDocument:
        try:
            return self.index.documents[doc_id]
        except KeyError:
            raise UnknownDocument(doc_id) from None

    def chunk_count(self, doc_id: str) -> int:
        return self.index.chunk_count(doc_id)


class SnapshotSource(Protocol):
    """Whatever serves the current snapshot (the live library)."""

    def current(self) -> Snapshot: ...
