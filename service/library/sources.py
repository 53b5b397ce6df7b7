"""The document library: the documents the service answers over.

The library is stored inside every index build (``documents.jsonl`` keeps each
document's metadata and original text), so a library change and the index
built from it are published together by one atomic pointer swap. A fresh data
directory is seeded from the bundled corpus (``corpus/manifest.json``); once a
user has added, replaced or deleted a document the live build's library is the
truth and the corpus directory is no longer consulted, so user documents are
never dropped by a rebuild.

This module decides which sources an index should contain, and holds the
doc-id rules and the list edits an update makes."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path, PurePosixPath

from silkqa.index.ingest.corpus import corpus_fingerprint, load_corpus
from silkqa.index.ingest.types import CorpusError, InvalidDocument, SourceDocument
from silkqa.index.store.builds import IndexStore
from silkqa.index.store.types import IndexCorrupt
from silkqa.service.library.types import DocumentExists, DocumentNotFound, Library

log = logging.getLogger("silkqa")

DOC_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def library_sources(store: IndexStore, corpus_dir: Path) -> Library:
    """What the index in ``store`` should contain: the live build's own library
    once it was edited, else the bundled corpus (seeding a new data directory,
    or picking up a corpus that changed under an unedited library)."""
    try:
        edited = store.exists() and store.read_manifest().library_edited
    except IndexCorrupt:
        # The manifest is unreadable: keep whatever library the build still holds.
        try:
            sources = store.read_sources()
            return Library(sources, is_edited(sources, corpus_dir))
        except IndexCorrupt:
            log.warning("the live build and its library are unreadable: reseeding from %s", corpus_dir)
            edited = False
    if edited:
        return Library(store.read_sources(), edited=True)
    return Library(load_corpus(corpus_dir), edited=False)


def is_edited(sources: list[SourceDocument], corpus_dir: Path) -> bool:
    """Whether ``sources`` differ from the bundled corpus."""
    try:
        return corpus_fingerprint(sources) != corpus_fingerprint(load_corpus(corpus_dir))
    except (CorpusError, OSError, KeyError):  # an unreadable corpus cannot be what the library equals
        return True


def check_doc_id(doc_id: str) -> str:
    if not DOC_ID.fullmatch(doc_id) or ".." in doc_id:  # fullmatch: "$" would let "nl2\n" through
        raise InvalidDocument(
            f"doc_id {doc_id!r} is invalid: use 1-80 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return doc_id


def derive_doc_id(filename: str | None, text: str, taken: set[str]) -> str:
    """A doc id from the file name's ASCII letters and digits, else from the
    text's hash; suffixed ``-2``, ``-3``… while taken."""
    stem = PurePosixPath(filename).stem if filename else ""
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60]
    base = slug if len(slug) >= 3 else "doc-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def with_document(sources: list[SourceDocument], doc: SourceDocument, replacing: bool) -> list[SourceDocument]:
    """``sources`` with ``doc`` added (or put in place of its namesake)."""
    ids = [s.meta.doc_id for s in sources]
    doc_id = doc.meta.doc_id
    if replacing and doc_id not in ids:
        raise DocumentNotFound(f"no document with id {doc_id!r}")
    if not replacing and doc_id in ids:
        raise DocumentExists(f"a document with id {doc_id!r} already exists (replace it with PUT)")
    if replacing:
        return [doc if s.meta.doc_id == doc_id else s for s in sources]
    return [*sources, doc]


def without_document(sources: list[SourceDocument], doc_id: str) -> list[SourceDocument]:
    remaining = [s for s in sources if s.meta.doc_id != doc_id]
    if len(remaining) == len(sources):
        raise DocumentNotFound(f"no document with id {doc_id!r}")
    if not remaining:
        raise InvalidDocument("the last document cannot be deleted: the library would be empty")
    return remaining
