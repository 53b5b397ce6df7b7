"""Adding, replacing and deleting documents while the service keeps answering.

An update runs under the live library's update lock and an exclusive lock file in
the index directory (so ``silkqa add`` and a running server never build on the
same base at once). It starts from the live build on disk, builds the new
index re-embedding only unit texts no earlier build embedded, publishes it
atomically (``IndexStore.publish``: new directory, fsync, rename, pointer swap)
and then swaps it into the live library. Readers never wait: requests in flight
finish on the index they started with, and a crash at any point leaves the
previous build live."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from silkqa.index.ingest import formats
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.instructions import instruction_spans
from silkqa.index.ingest.metadata import document_meta
from silkqa.index.ingest.types import InvalidDocument, SourceDocument
from silkqa.index.store.build import build_index
from silkqa.index.store.types import BuiltIndex
from silkqa.service.library.live import LiveLibrary
from silkqa.service.library.sources import check_doc_id, derive_doc_id, is_edited, with_document, without_document
from silkqa.service.library.types import DocumentTooLong, NewDocument, UpdateResult, UploadTooLarge

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


class LibraryEditor:
    def __init__(self, live: LiveLibrary):
        self.live = live
        self.settings = live.settings
        self.store = live.store

    # --- operations ---------------------------------------------------------

    def add(self, new: NewDocument) -> UpdateResult:
        """Add ``new`` under its doc id (derived from the file name or text when not given)."""
        raw, fmt, file_title = self._text(new)
        return self._apply(lambda sources: self._with(sources, new, raw, fmt, file_title, replacing=False), "added")

    def replace(self, doc_id: str, new: NewDocument) -> UpdateResult:
        """Put ``new`` in place of document ``doc_id`` (404 when there is none)."""
        raw, fmt, file_title = self._text(new)
        new = dataclasses.replace(new, doc_id=check_doc_id(doc_id))
        return self._apply(lambda sources: self._with(sources, new, raw, fmt, file_title, replacing=True), "replaced")

    def delete(self, doc_id: str) -> UpdateResult:
        return self._apply(lambda sources: (without_document(sources, doc_id), doc_id), "deleted")

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

    def _with(
        self, sources: list[SourceDocument], new: NewDocument, raw: str, fmt: str, file_title: str | None, replacing: bool
    ) -> tuple[list[SourceDocument], str]:
        filename = formats.safe_filename(new.filename)
        taken = {s.meta.doc_id for s in sources}
        doc_id = check_doc_id(new.doc_id) if new.doc_id else derive_doc_id(filename, raw, taken)
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
        return with_document(sources, SourceDocument(meta, raw), replacing), doc_id

    def _base(self) -> BuiltIndex:
        """The live build: the one served, unless another process published since."""
        self.live.follow_published()
        return self.live.current().index

    def _apply(self, change: Callable[[list[SourceDocument]], tuple[list[SourceDocument], str]], action: str) -> UpdateResult:
        started = time.perf_counter()
        with self.live.update_lock, self.store.lock():
            base = self._base()
            before = [d.source for d in base.documents.values()]
            sources, doc_id = change(before)
            if [s.fingerprint for s in sources] == [s.fingerprint for s in before]:
                return self._result(base, doc_id, "unchanged", started, embedded=False)
            built = build_index(
                sources,
                self.live.embedder,
                self.settings.index_options(),
                reuse=base,
                library_edited=is_edited(sources, self.settings.corpus_dir),
            )
            self.store.publish(built)
            self.live.swap(built)
        return self._result(built, doc_id, action, started, embedded=True)

    @staticmethod
    def _result(built: BuiltIndex, doc_id: str, action: str, started: float, embedded: bool) -> UpdateResult:
        m = built.manifest
        doc = built.documents.get(doc_id)
        return UpdateResult(
            doc_id=doc_id,
            action=action,
            title=doc.meta.title if doc else None,
            chunk_count=sum(1 for c in built.chunks if c.doc_id == doc_id),
            embedded_chunks=m.embedded_chunks if embedded else 0,
            embedded_units=m.embedded_units if embedded else 0,
            document_count=len(built.documents),
            build_id=m.build_id,
            seconds=round(time.perf_counter() - started, 3),
        )
