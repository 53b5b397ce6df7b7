"""corpus -> cleaned documents -> chunks -> retrieval units -> vectors + BM25.

Dense retrieval works on *units*, not whole chunks: USE ranks Chinese text far
better sentence by sentence than over a 300-character window. Each chunk
contributes its sentences plus one *context* unit (document title and section
path, and a table row's inherited headers), so a question phrased like a
heading ("人才队伍建设有哪些要求") finds the section even when no single sentence
says so. A chunk's dense score is the best of its units."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import faiss
import numpy as np

from index.chunking import Chunk, ChunkingOptions, chunk_document
from index.cleaning import clean
from index.documents import DocumentMeta, SourceDocument, corpus_fingerprint
from index.embedding import Embedder, ModelIdentity
from index.lexical import LexicalIndex, tokenize
from index.offsets import OffsetMap
from index.structure import format_path

# Bump whenever cleaning, structure, chunking or unit layout changes what an
# index contains: older indexes are then detected as stale.
INDEX_FORMAT = 1

UNIT_SENTENCE = 0
UNIT_CONTEXT = 1


@dataclass(frozen=True)
class IndexOptions:
    chunking: ChunkingOptions = field(default_factory=ChunkingOptions)
    bm25_include_titles: bool = True

    def to_json(self) -> dict:
        return {"format": INDEX_FORMAT, **asdict(self)}


@dataclass(frozen=True)
class IndexedDocument:
    meta: DocumentMeta
    text: str  # cleaned text: what citations point into
    offsets: OffsetMap  # cleaned -> original offsets
    fingerprint: str
    raw_length: int


@dataclass
class Units:
    """Parallel arrays, one row per dense retrieval unit."""

    chunk: np.ndarray  # int32 index into chunks
    kind: np.ndarray  # int8 UNIT_SENTENCE / UNIT_CONTEXT
    start: np.ndarray  # int32 sentence span in its document (-1 for context units)
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.chunk)


@dataclass
class IndexManifest:
    format: int
    model: dict
    options: dict
    corpus_fingerprint: str
    document_count: int
    chunk_count: int
    unit_count: int
    built_at: str
    code_version: str
    build_seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> IndexManifest:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class BuiltIndex:
    manifest: IndexManifest
    documents: dict[str, IndexedDocument]
    chunks: list[Chunk]
    units: Units
    dense: faiss.Index
    lexical: LexicalIndex


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


def build_units(documents: dict[str, IndexedDocument], chunks: list[Chunk]) -> tuple[Units, list[str]]:
    rows: list[tuple[int, int, int, int]] = []
    texts: list[str] = []
    for idx, chunk in enumerate(chunks):
        doc = documents[chunk.doc_id]
        rows.append((idx, UNIT_CONTEXT, -1, -1))
        texts.append(context_text(doc.meta, chunk))
        # A sentence is embedded with its section's title, so "项目每年提供清洁电力…"
        # in the box on the Mozura wind farm knows which project it is about.
        leaf = chunk.section[-1] if chunk.section else doc.meta.title
        for s, e in chunk.sentences:
            rows.append((idx, UNIT_SENTENCE, s, e))
            texts.append(f"{leaf}：{doc.text[s:e]}")
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    units = Units(
        chunk=arr[:, 0].astype(np.int32),
        kind=arr[:, 1].astype(np.int8),
        start=arr[:, 2].astype(np.int32),
        end=arr[:, 3].astype(np.int32),
    )
    return units, texts


def dense_index(vectors: np.ndarray, dimension: int) -> faiss.Index:
    """Exact inner product over normalised vectors (= cosine). A few thousand
    units need no approximate index; search is well under a millisecond."""
    index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(vectors)
    return index


def build_index(sources: list[SourceDocument], embedder: Embedder, options: IndexOptions) -> BuiltIndex:
    started = datetime.now(timezone.utc)
    documents: dict[str, IndexedDocument] = {}
    chunks: list[Chunk] = []
    for source in sources:
        document, doc_chunks = prepare_document(source, options)
        documents[document.meta.doc_id] = document
        chunks.extend(doc_chunks)
    units, unit_texts = build_units(documents, chunks)
    vectors = embedder.encode(unit_texts)
    lexical = LexicalIndex.build(
        [tokenize(lexical_text(documents[c.doc_id].meta, c, options.bm25_include_titles)) for c in chunks]
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
        build_seconds=round((datetime.now(timezone.utc) - started).total_seconds(), 2),
    )
    return BuiltIndex(manifest, documents, chunks, units, dense_index(vectors, embedder.identity.dimension), lexical)


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
