"""corpus -> cleaned documents -> chunks -> retrieval units -> vectors + BM25.

Dense retrieval works on *units*, not whole chunks: USE ranks Chinese text far
better sentence by sentence than over a 300-character window. Each chunk
contributes its sentences plus one *context* unit (document title and section
path, and a table row's inherited headers), so a question phrased like a
heading ("人才队伍建设有哪些要求") finds the section even when no single sentence
says so. A chunk's dense score is the best of its units."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime

import faiss
import numpy as np

from silkqa.index.ingest.chunking import chunk_document
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.corpus import corpus_fingerprint
from silkqa.index.ingest.structure import format_path
from silkqa.index.ingest.types import Chunk, DocumentMeta, SourceDocument
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.lexical import LexicalIndex
from silkqa.index.store.types import (
    INDEX_FORMAT,
    UNIT_CONTEXT,
    UNIT_SENTENCE,
    BuiltIndex,
    IndexedDocument,
    IndexManifest,
    IndexOptions,
    ModelIdentity,
    Units,
)

log = logging.getLogger("silkqa")


def code_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("silkqa")
    except PackageNotFoundError:
        return "source"


def prepare_document(source: SourceDocument, options: IndexOptions) -> tuple[IndexedDocument, list[Chunk]]:
    cleaned = clean(source.raw)
    document = IndexedDocument(
        meta=source.meta,
        text=cleaned.text,
        offsets=cleaned.offsets,
        fingerprint=source.fingerprint,
        raw_length=len(source.raw),
        raw=source.raw,
    )
    return document, chunk_document(source.meta.doc_id, cleaned.text, options.chunking)


def context_text(meta: DocumentMeta, chunk: Chunk) -> str:
    parts = [meta.title, format_path(chunk.section), chunk.context]
    return "：".join(p for p in parts if p)


def lexical_text(meta: DocumentMeta, chunk: Chunk, include_titles: bool) -> str:
    parts = [chunk.context, chunk.text]
    if include_titles:
        parts = [meta.title, meta.doc_number or "", " ".join(meta.aliases), format_path(chunk.section)] + parts
    return "\n".join(p for p in parts if p)


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def build_units(
    documents: dict[str, IndexedDocument], chunks: list[Chunk], embed_section_path: bool = True
) -> tuple[Units, list[str]]:
    rows: list[tuple[int, int, int, int]] = []
    texts: list[str] = []
    for idx, chunk in enumerate(chunks):
        doc = documents[chunk.doc_id]
        rows.append((idx, UNIT_CONTEXT, -1, -1))
        if embed_section_path:
            texts.append(context_text(doc.meta, chunk))
        else:
            texts.append("：".join(p for p in (doc.meta.title, chunk.context) if p))
        # A sentence is embedded with its section's title, so "项目每年提供清洁电力…"
        # in the box on the Mozura wind farm knows which project it is about.
        leaf = chunk.section[-1] if chunk.section else doc.meta.title
        for s, e in chunk.sentences:
            rows.append((idx, UNIT_SENTENCE, s, e))
            texts.append(f"{leaf}：{doc.text[s:e]}" if embed_section_path else doc.text[s:e])
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    units = Units(
        chunk=arr[:, 0].astype(np.int32),
        kind=arr[:, 1].astype(np.int8),
        start=arr[:, 2].astype(np.int32),
        end=arr[:, 3].astype(np.int32),
        text_hash=np.array([text_hash(t) for t in texts], dtype="S16"),
    )
    return units, texts


def dense_index(vectors: np.ndarray, dimension: int) -> faiss.Index:
    """Exact inner product over normalised vectors (= cosine). A few thousand
    units need no approximate index; search is well under a millisecond."""
    index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(vectors)
    return index


def build_index(
    sources: list[SourceDocument],
    embedder: Embedder,
    options: IndexOptions,
    reuse: BuiltIndex | None = None,
    library_edited: bool = False,
) -> BuiltIndex:
    """Index ``sources``. Units whose exact text ``reuse`` (an earlier build with
    the same model) already embedded take its vectors instead of being embedded
    again, so an update costs only its new or changed text."""
    started = datetime.now(UTC)
    documents: dict[str, IndexedDocument] = {}
    chunks: list[Chunk] = []
    for source in sources:
        document, doc_chunks = prepare_document(source, options)
        documents[document.meta.doc_id] = document
        chunks.extend(doc_chunks)
    units, unit_texts = build_units(documents, chunks, options.embed_section_path)
    vectors, fresh = VectorCache.of(reuse, embedder.identity).vectors(units, unit_texts, embedder)
    lexical = LexicalIndex.build(
        [lexical_text(documents[c.doc_id].meta, c, options.bm25_include_titles) for c in chunks],
        options.bm25_bigrams,
        options.bm25_bilingual,
    )
    manifest = IndexManifest(
        format=INDEX_FORMAT,
        model=embedder.identity.to_json(),
        options=options.to_json(),
        corpus_fingerprint=corpus_fingerprint(sources),
        document_count=len(documents),
        chunk_count=len(chunks),
        unit_count=len(units),
        built_at=started.isoformat(timespec="seconds"),
        code_version=code_version(),
        build_seconds=round((datetime.now(UTC) - started).total_seconds(), 2),
        # Names sort by time: garbage collection keeps the newest builds.
        build_id=f"{started.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}",
        library_edited=library_edited,
        embedded_units=int(fresh.sum()),
        embedded_chunks=len(np.unique(units.chunk[fresh])),
    )
    return BuiltIndex(manifest, documents, chunks, units, dense_index(vectors, embedder.identity.dimension), lexical)


class VectorCache:
    """Vectors of an earlier build, keyed by the hash of the text they embed."""

    def __init__(self, rows: dict[bytes, int], vectors: np.ndarray):
        self._rows = rows
        self._vectors = vectors

    @classmethod
    def of(cls, built: BuiltIndex | None, model: ModelIdentity) -> VectorCache:
        if built is None or built.manifest.model != model.to_json() or not len(built.units):
            return cls({}, np.zeros((0, model.dimension), np.float32))
        rows = {bytes(h): i for i, h in enumerate(built.units.text_hash)}
        return cls(rows, built.dense.reconstruct_n(0, built.dense.ntotal))

    def vectors(self, units: Units, texts: list[str], embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
        """(vectors for every unit, mask of the units that had to be embedded)."""
        known = np.array([self._rows.get(bytes(h), -1) for h in units.text_hash], dtype=np.int64)
        fresh = known < 0
        out = np.empty((len(texts), embedder.identity.dimension), np.float32)
        if (~fresh).any():
            out[~fresh] = self._vectors[known[~fresh]]
        if fresh.any():
            log.info("embedding %d new units (%d reused)", int(fresh.sum()), int((~fresh).sum()))
            out[fresh] = embedder.encode([t for t, new in zip(texts, fresh, strict=True) if new])
        return out, fresh


def staleness(manifest: IndexManifest, model: ModelIdentity, options: IndexOptions, fingerprint: str | None) -> list[str]:
    """Why an index cannot serve the current configuration ([] when it can)."""
    reasons = []
    if manifest.format != INDEX_FORMAT:
        reasons.append(f"index format {manifest.format} != {INDEX_FORMAT} (silkqa was upgraded)")
    if manifest.model != model.to_json():
        reasons.append(f"built with model {json.dumps(manifest.model)}, configured {json.dumps(model.to_json())}")
    if manifest.options != options.to_json():
        reasons.append(f"built with options {json.dumps(manifest.options)}, configured {json.dumps(options.to_json())}")
    if fingerprint is not None and manifest.corpus_fingerprint != fingerprint:
        reasons.append("the corpus changed since the index was built")
    return reasons
