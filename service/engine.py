"""The question-answering engine: one loaded index, one embedder, and the
retrieval and answer modules over them. The API and the CLI both go through it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from index.build import BuiltIndex, IndexedDocument, IndexOptions, build_index, staleness
from index.chunking import ChunkingOptions
from index.documents import corpus_fingerprint, load_corpus
from index.embedding import Embedder
from index.store import IndexCorrupt, IndexMissing, IndexStore
from service.answer import Answer, AnswerComposer, AnswerOptions
from service.retrieval import FusionWeights, Hit, Retriever
from service.settings import Settings

log = logging.getLogger("silkqa")


class IndexUnusable(RuntimeError):
    """The index on disk cannot serve this configuration and may not be rebuilt."""


class UnknownDocument(KeyError):
    pass


def index_options(settings: Settings) -> IndexOptions:
    return IndexOptions(
        chunking=ChunkingOptions(
            max_tokens=settings.chunk_max_tokens, overlap_sentences=settings.chunk_overlap_sentences
        ),
        bm25_include_titles=settings.bm25_include_titles,
    )


def build_and_publish(settings: Settings, embedder: Embedder) -> BuiltIndex:
    sources = load_corpus(settings.corpus_dir)
    built = build_index(sources, embedder, index_options(settings))
    IndexStore(settings.index_dir).publish(built)
    log.info(
        "built index: %d documents, %d chunks in %.1fs",
        built.manifest.document_count,
        built.manifest.chunk_count,
        built.manifest.build_seconds,
    )
    return built


def ensure_index(settings: Settings, embedder: Embedder) -> BuiltIndex:
    """Load the index, building it when missing and rebuilding it when it no
    longer matches the model, corpus or settings (or refusing, if
    ``rebuild_stale_index`` is off). A mismatched index is never used silently."""
    store = IndexStore(settings.index_dir)
    try:
        manifest = store.read_manifest()
    except IndexMissing:
        log.info("no index in %s: building it", settings.index_dir)
        return build_and_publish(settings, embedder)
    except IndexCorrupt as exc:
        reasons = [str(exc)]
    else:
        fingerprint = corpus_fingerprint(load_corpus(settings.corpus_dir))
        reasons = staleness(manifest, embedder.identity, index_options(settings), fingerprint)
        if not reasons:
            try:
                return store.load()
            except IndexCorrupt as exc:
                reasons = [str(exc)]
    if not settings.rebuild_stale_index:
        raise IndexUnusable("the index cannot be used: " + "; ".join(reasons))
    log.warning("rebuilding the index: %s", "; ".join(reasons))
    return build_and_publish(settings, embedder)


@dataclass
class QAEngine:
    settings: Settings
    index: BuiltIndex
    embedder: Embedder

    def __post_init__(self) -> None:
        s = self.settings
        self.retriever = Retriever(self.index, self.embedder, FusionWeights(s.bm25_weight_zh, s.bm25_weight_en, s.rrf_k))
        self.composer = AnswerComposer(
            self.index,
            self.retriever,
            AnswerOptions(
                abstain_threshold_zh=s.abstain_threshold_zh,
                abstain_threshold_en=s.abstain_threshold_en,
                max_sentences=s.answer_max_sentences,
                max_chars=s.answer_max_chars,
            ),
        )

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> QAEngine:
        embedder = embedder or Embedder(settings.embedding_model)
        return cls(settings, ensure_index(settings, embedder), embedder)

    def search(self, query: str, top_k: int) -> list[Hit]:
        return self.retriever.search(self.retriever.analyze(query), top_k)

    def ask(self, question: str, top_k: int) -> Answer:
        t0 = time.perf_counter()
        query = self.retriever.analyze(question)
        t1 = time.perf_counter()
        hits = self.retriever.search(query, max(top_k, self.composer.options.candidate_passages))
        t2 = time.perf_counter()
        answer = self.composer.compose(query, hits)
        t3 = time.perf_counter()
        answer.passages = hits[:top_k]
        answer.timings_ms = {
            "embed": round((t1 - t0) * 1000, 2),
            "retrieve": round((t2 - t1) * 1000, 2),
            "answer": round((t3 - t2) * 1000, 2),
        }
        return answer

    def documents(self) -> list[IndexedDocument]:
        return list(self.index.documents.values())

    def document(self, doc_id: str) -> IndexedDocument:
        try:
            return self.index.documents[doc_id]
        except KeyError:
            raise UnknownDocument(doc_id) from None

    def chunk_count(self, doc_id: str) -> int:
        return sum(1 for c in self.index.chunks if c.doc_id == doc_id)
