"""The data of the index stage: what a build holds (documents, chunks, dense
units, vectors, BM25), its manifest, and the options it was built with."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from silkqa.index.ingest.types import Chunk, ChunkingOptions, DocumentMeta, OffsetMap, SourceDocument

if TYPE_CHECKING:
    from silkqa.index.store.lexical import LexicalIndex


# Bump whenever cleaning, structure, chunking or unit layout changes what an
# index contains: older indexes are then detected as stale.
# 2: builds carry each document's original text (the library) and the hash of
#    every embedded unit text (vector reuse); table rows carry their caption.
INDEX_FORMAT = 2

# What a dense unit embeds: one sentence of a chunk, or the chunk's context
# (document title, section path, a table row's inherited cells).
UNIT_SENTENCE = 0
UNIT_CONTEXT = 1


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
class IndexedDocument:
    meta: DocumentMeta
    text: str  # cleaned text: what citations point into
    offsets: OffsetMap  # cleaned -> original offsets
    fingerprint: str
    raw_length: int
    raw: str = ""  # the original text the offsets map back to; with meta, the library entry

    @property
    def source(self) -> SourceDocument:
        return SourceDocument(self.meta, self.raw)


@dataclass
class Units:
    """Parallel arrays, one row per dense retrieval unit."""

    chunk: np.ndarray  # int32 index into chunks
    kind: np.ndarray  # int8 UNIT_SENTENCE / UNIT_CONTEXT
    start: np.ndarray  # int32 sentence span in its document (-1 for context units)
    end: np.ndarray
    text_hash: np.ndarray  # S16 digest of the embedded text: what vector reuse keys on

    def __len__(self) -> int:
        return len(self.chunk)

    def sentence_units(self, chunk: int) -> np.ndarray:
        """Ids of the sentence units of chunk ``chunk``, in the order of its
        sentences: a build stores units chunk by chunk, in reading order."""
        lo, hi = np.searchsorted(self.chunk, [chunk, chunk + 1])
        ids: np.ndarray = np.arange(lo, hi)[self.kind[lo:hi] == UNIT_SENTENCE]
        return ids


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
    build_id: str = ""  # also the build's directory name under builds/
    # The library differs from the bundled corpus it was seeded from: its own
    # documents are then the truth, and the corpus directory is not consulted.
    library_edited: bool = False
    embedded_units: int = 0  # units this build embedded; the rest reused earlier vectors
    embedded_chunks: int = 0  # chunks with at least one newly embedded unit

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexManifest:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class BuiltIndex:
    manifest: IndexManifest
    documents: dict[str, IndexedDocument]
    chunks: list[Chunk]
    units: Units
    dense: faiss.Index
    lexical: LexicalIndex


@dataclass(frozen=True)
class ModelIdentity:
    """What an index records about the model that embedded it."""

    name: str
    dimension: int
    fingerprint: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dimension": self.dimension, "fingerprint": self.fingerprint}


class IndexMissing(FileNotFoundError):
    """No build has been published in the index directory."""


class IndexCorrupt(RuntimeError):
    """The published build cannot be read."""
