"""The question-answering engine: one loaded index, one embedder, and the
retrieval and answer modules over them. The API and the CLI both go through it."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from index.build import BuiltIndex, IndexedDocument, IndexOptions, build_index, staleness
from index.chunking import ChunkingOptions
from index.documents import corpus_fingerprint
from index.embedding import Embedder
from index.library import library_sources
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
        bm25_bigrams=settings.bm25_bigrams,
        bm25_bilingual=settings.bm25_bilingual,
        embed_section_path=settings.embed_section_path,
    )


def build_and_publish(settings: Settings, embedder: Embedder) -> BuiltIndex:
    """Build and publish an index of the library (see ``index.library``),
    reusing the vectors of the live build where it can."""
    store = IndexStore(settings.index_dir)
    with store.lock():
        library = library_sources(store, settings.corpus_dir)
        previous = store.load_reusable()
        built = build_index(library.sources, embedder, index_options(settings), reuse=previous, library_edited=library.edited)
        store.publish(built)
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
        # An edited library is its own truth; an unedited one follows the corpus.
        fingerprint = corpus_fingerprint(library_sources(store, settings.corpus_dir).sources)
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


@dataclass(frozen=True)
class LiveIndex:
    """One index with the retrieval and answer objects over it. A request takes
    one ``LiveIndex`` and uses it to the end, so an index swapped in by an update
    meanwhile never mixes with the one the request started on."""

    index: BuiltIndex
    retriever: Retriever
    composer: AnswerComposer


@dataclass
class QAEngine:
    settings: Settings
    index: BuiltIndex
    embedder: Embedder

    def __post_init__(self) -> None:
        # Serialises library updates; readers never take it.
        self.update_lock = threading.Lock()
        self.swap_index(self.index)

    @property
    def retriever(self) -> Retriever:
        return self.live.retriever

    @property
    def composer(self) -> AnswerComposer:
        return self.live.composer

    def swap_index(self, index: BuiltIndex) -> None:
        """Serve ``index`` from now on; requests in flight finish on the old one."""
        s = self.settings
        retriever = Retriever(index, self.embedder, FusionWeights(s.bm25_weight_zh, s.bm25_weight_en, s.named_document_boost))
        composer = AnswerComposer(
            index,
            retriever,
            AnswerOptions(
                abstain_threshold_zh=s.abstain_threshold_zh,
                abstain_threshold_en=s.abstain_threshold_en,
                max_sentences=s.answer_max_sentences,
                companion_ratio=s.answer_companion_ratio,
                max_chars=s.answer_max_chars,
            ),
        )
        self.live = LiveIndex(index, retriever, composer)  # one reference swap: atomic for readers
        self.index = index

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> QAEngine:
        embedder = embedder or Embedder(settings.embedding_model)
        engine = cls(settings, ensure_index(settings, embedder), embedder)
        engine.search("warm-up 预热", 1)  # loads jieba's dictionary now, not during the first request (~1 s)
        return engine

    def search(self, query: str, top_k: int) -> list[Hit]:
        retriever = self.retriever
        return retriever.search(retriever.analyze(query), top_k)

    def ask(self, question: str, top_k: int) -> Answer:
        live = self.live
        t0 = time.perf_counter()
        query = live.retriever.analyze(question)
        t1 = time.perf_counter()
        retrieval: dict[str, float] = {}  # bm25, dense, fusion
        hits = live.retriever.search(query, max(top_k, live.composer.options.retrieved_passages), retrieval)
        t2 = time.perf_counter()
        answer = live.composer.compose(query, hits)
        t3 = time.perf_counter()
        answer.passages = hits[:top_k]
        answer.timings_ms = {
            "embed": round((t1 - t0) * 1000, 2),
            "retrieve": round((t2 - t1) * 1000, 2),
            **retrieval,
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
