"""The document library: the documents the service answers over.

The library is kept in the store with the index built from it (each document's
metadata and original text next to its chunks and vectors), so a library
change and its index are published together, atomically. A fresh data
directory is seeded from the bundled corpus (``corpus/manifest.json``); once a
user has added, replaced or deleted a document the store's library is the
truth and the corpus directory is no longer consulted, so user documents are
never dropped by a rebuild.

This module decides which sources an index should contain, and holds the
doc-id rules."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Container
from pathlib import Path, PurePosixPath

from silkqa.index.ingest.corpus import corpus_fingerprint, load_corpus
from silkqa.index.ingest.types import CorpusError, InvalidDocument
from silkqa.index.store.types import IndexCorrupt, LibraryStore
from silkqa.service.library.types import Library

log = logging.getLogger("silkqa")

DOC_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def library_sources(store: LibraryStore, corpus_dir: Path) -> Library:
    """What the index in ``store`` should contain: the store's own library
    once it was edited, else the bundled corpus (seeding a new data directory,
    or picking up a corpus that changed under an unedited library)."""
    try:
        edited = store.exists() and store.read_manifest().library_edited
    except IndexCorrupt:
        # The manifest is unreadable: keep whatever library the store still holds.
        try:
            sources = list(store.read_sources())
            return Library(sources, corpus_fingerprint(sources) != corpus_fingerprint_of(corpus_dir))
        except IndexCorrupt:
            log.warning("the live library is unreadable: reseeding from %s", corpus_dir)
            edited = False
    if edited:
        return Library(list(store.read_sources()), edited=True)
    return Library(load_corpus(corpus_dir), edited=False)


def corpus_fingerprint_of(corpus_dir: Path) -> str | None:
    """The bundled corpus' fingerprint (None when it cannot be read: then no
    library equals it)."""
    try:
        return corpus_fingerprint(load_corpus(corpus_dir))
    except (CorpusError, OSError, KeyError):
        return None


def check_doc_id(doc_id: str) -> str:
    if not DOC_ID.fullmatch(doc_id) or ".." in doc_id:  # fullmatch: "$" would let "nl2\n" through
        raise InvalidDocument(
            f"doc_id {doc_id!r} is invalid: use 1-80 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return doc_id


def derive_doc_id(filename: str | None, text: str, taken: Container[str]) -> str:
    """A doc id from the file name's ASCII letters and digits, else from the
    text's hash; suffixed ``-2``, ``-3``… while taken."""
    stem = PurePosixPath(filename).stem if filename else ""
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60]
    base = slug if len(slug) >= 3 else "doc-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
