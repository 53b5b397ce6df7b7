"""The data of the library stage: what an index should contain, a document to
add, what an update did, and the ways a library change can be refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from silkqa.index.ingest.types import SourceDocument


@dataclass(frozen=True)
class Library:
    sources: list[SourceDocument]
    edited: bool  # differs from the bundled corpus


@dataclass(frozen=True)
class NewDocument:
    """A document to add: ``text``, or a file's ``data`` with its name and type."""

    text: str | None = None
    data: bytes | None = None
    filename: str | None = None
    content_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    doc_id: str | None = None


@dataclass(frozen=True)
class UpdateResult:
    doc_id: str
    action: str  # "added", "replaced", "unchanged" or "deleted"
    title: str | None
    chunk_count: int  # chunks of this document in the new index
    embedded_chunks: int  # chunks this update had to embed (the rest reused earlier vectors)
    embedded_units: int
    document_count: int
    build_id: str
    seconds: float


class IndexUnusable(RuntimeError):
    """The index on disk cannot serve this configuration and may not be rebuilt."""


class LibraryError(ValueError):
    """A library change that cannot be made; the message says why."""


class DocumentExists(LibraryError):
    pass


class DocumentNotFound(LibraryError):
    pass


class UploadTooLarge(LibraryError):
    """The file is over ``max_upload_bytes``."""


class DocumentTooLong(LibraryError):
    """The text is over ``max_document_chars``."""
