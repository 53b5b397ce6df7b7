"""Adding, replacing and deleting documents while the service keeps answering.

An update runs under the live library's update lock and the store's writer
lock (a lock file in the data directory, so ``silkqa add`` and a running
server never change the same base at once). It prepares only the document it
changes (cleaning, chunking, embedding only unit texts the library has no
vector for), stages it in the store, and publishes the new state atomically
(``LibraryStore.commit``), then swaps it into the live library: an update
costs what its document costs, whatever the size of the library. Readers
never wait: requests in flight finish on the state they started with, and a
crash at any point leaves the previous state live."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from silkqa.index.ingest import formats
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.corpus import fingerprint_changed
from silkqa.index.ingest.instructions import instruction_spans
from silkqa.index.ingest.metadata import document_meta
from silkqa.index.ingest.types import InvalidDocument, SourceDocument
from silkqa.index.store.build import Progress, new_manifest, prepare
from silkqa.index.store.types import IndexView, PreparedDocument
from silkqa.service.library.lifecycle import nothing_known
from silkqa.service.library.live import LiveLibrary
from silkqa.service.library.sources import check_doc_id, corpus_fingerprint_of, derive_doc_id
from silkqa.service.library.types import (
    DocumentExists,
    DocumentNotFound,
    DocumentTooLong,
    NewDocument,
    UpdateResult,
    UploadTooLarge,
)

log = logging.getLogger("silkqa")


def _check_encodable(*texts: str) -> None:
    """JSON can carry lone surrogates (``"\\ud800"``) that no file can hold."""
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidDocument("the text or metadata contains unpaired surrogate characters") from None


def _check_typed(*texts: str) -> None:
    """Text sent as JSON (a document's text, its metadata) may not hold control
    characters (``"\\u0000"``) either: a text file holding them is refused as
    binary, and the same text sent as JSON must be too."""
    if any(formats.has_control_characters(text) for text in texts):
        raise InvalidDocument("the text or metadata contains control characters (NUL, escape, ...), which no text has")


@dataclasses.dataclass(frozen=True)
class _Change:
    doc_id: str
    document: SourceDocument | None  # None: delete


class LibraryEditor:
    def __init__(self, live: LiveLibrary):
        self.live = live
        self.settings = live.settings
        self.store = live.store

    # --- operations ---------------------------------------------------------

    def add(self, new: NewDocument, progress: Progress | None = None) -> UpdateResult:
        """Add ``new`` under its doc id (derived from the file name or text when not given)."""
        raw, fmt, file_title = self._text(new)
        return self._apply(lambda base: self._with(base, new, raw, fmt, file_title, replacing=False), "added", progress)

    def replace(self, doc_id: str, new: NewDocument, progress: Progress | None = None) -> UpdateResult:
        """Put ``new`` in place of document ``doc_id`` (404 when there is none)."""
        raw, fmt, file_title = self._text(new)
        new = dataclasses.replace(new, doc_id=check_doc_id(doc_id))
        return self._apply(lambda base: self._with(base, new, raw, fmt, file_title, replacing=True), "replaced", progress)

    def delete(self, doc_id: str) -> UpdateResult:
        def change(base: IndexView) -> _Change:
            if doc_id not in base.documents:
                raise DocumentNotFound(f"no document with id {doc_id!r}")
            if base.manifest.document_count <= 1:
                raise InvalidDocument("the last document cannot be deleted: the library would be empty")
            return _Change(doc_id, None)

        return self._apply(change, "deleted")

    # --- parts --------------------------------------------------------------

    def _text(self, new: NewDocument) -> tuple[str, str, str | None]:
        """The document's original text, its format and the file's own title."""
        if new.data is not None:
            limit = self.settings.max_upload_bytes
            if len(new.data) > limit:
                raise UploadTooLarge(f"the file is {len(new.data)} bytes; the limit is {limit} bytes")
            extracted = formats.extract(new.data, new.filename, new.content_type, self.settings.extraction_limits())
            raw, fmt, title = extracted.text, extracted.format, extracted.title
        elif new.text is not None:
            raw, fmt, title = new.text, formats.TEXT, None
        else:
            raise InvalidDocument("give the document's text or a file")
        limit = self.settings.max_document_chars
        if len(raw) > limit:
            raise DocumentTooLong(f"the document has {len(raw)} characters; the limit is {limit}")
        metadata = [*(v for v in new.metadata.values() if isinstance(v, str)), *new.metadata.get("aliases", ())]
        _check_encodable(raw, *metadata)
        _check_typed(*metadata, *([raw] if new.data is None else []))
        return raw, fmt, title

    def _with(self, base: IndexView, new: NewDocument, raw: str, fmt: str, file_title: str | None, replacing: bool) -> _Change:
        filename = formats.safe_filename(new.filename)
        doc_id = check_doc_id(new.doc_id) if new.doc_id else derive_doc_id(filename, raw, base.documents)
        if replacing and doc_id not in base.documents:
            raise DocumentNotFound(f"no document with id {doc_id!r}")
        if not replacing and doc_id in base.documents:
            raise DocumentExists(f"a document with id {doc_id!r} already exists (replace it with PUT)")
        cleaned = clean(raw).text
        if not cleaned.strip():
            raise InvalidDocument("the document has no text left after cleaning")
        if flagged := instruction_spans(cleaned):
            # Kept (it is what the document says) but never evidence for a generated answer.
            log.warning(
                "document %s holds %d sentence(s) that read as instructions to a model, e.g. %r",
                doc_id,
                len(flagged),
                cleaned[flagged[0][0] : flagged[0][1]][:120],
            )
        meta = document_meta(doc_id, cleaned, new.metadata, file_title, filename, fmt)
        return _Change(doc_id, SourceDocument(meta, raw))

    def _base(self) -> IndexView:
        """The published state: the one served, unless another process published since."""
        self.live.follow_published()
        return self.live.current().index

    def _apply(self, decide: Callable[[IndexView], _Change], action: str, progress: Progress | None = None) -> UpdateResult:
        started = time.perf_counter()
        with self.live.update_lock, self.store.lock():
            base = self._base()
            change = decide(base)
            old = base.documents.get(change.doc_id)
            if change.document is not None and old is not None and old.fingerprint == change.document.fingerprint:
                return self._result(base, change.doc_id, "unchanged", started, None)
            prepared = None
            staged = []
            if change.document is not None:
                same_model = base.manifest.model == self.live.embedder.identity.to_json()
                known = base.known_vectors if same_model else nothing_known
                prepared = prepare(change.document, self.live.embedder, self.settings.index_options(), known, progress)
                staged.append(self.store.stage([prepared]))
            fingerprint = fingerprint_changed(
                base.manifest.corpus_fingerprint,
                [change.document.fingerprint] if change.document is not None else [],
                (old.fingerprint,) if old is not None else (),
            )
            manifest = new_manifest(
                self.live.embedder.identity,
                self.settings.index_options(),
                fingerprint,
                fingerprint != corpus_fingerprint_of(self.settings.corpus_dir),
                datetime.now(UTC).isoformat(timespec="seconds"),
                embedded_units=prepared.embedded_units if prepared else 0,
                embedded_chunks=prepared.embedded_chunks if prepared else 0,
                build_seconds=round(time.perf_counter() - started, 2),
            )
            view = self.store.commit(base, staged, {change.doc_id} if change.document is None else set(), manifest)
            self.live.swap(view)
        self.live.upkeep_in_background()
        return self._result(view, change.doc_id, action, started, prepared)

    @staticmethod
    def _result(view: IndexView, doc_id: str, action: str, started: float, prepared: PreparedDocument | None) -> UpdateResult:
        doc = view.documents.get(doc_id)
        return UpdateResult(
            doc_id=doc_id,
            action=action,
            title=doc.meta.title if doc else None,
            chunk_count=doc.chunk_count if doc else 0,
            embedded_chunks=prepared.embedded_chunks if prepared else 0,
            embedded_units=prepared.embedded_units if prepared else 0,
            document_count=view.manifest.document_count,
            build_id=view.manifest.build_id,
            seconds=round(time.perf_counter() - started, 3),
        )
