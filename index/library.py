"""The document library: the documents the service answers over.

The library is stored inside every index build (``documents.jsonl`` keeps each
document's metadata and original text), so a library change and the index
built from it are published together by one atomic pointer swap. A fresh data
directory is seeded from the bundled corpus (``corpus/manifest.json``); once a
user has added, replaced or deleted a document the live build's library is the
truth and the corpus directory is no longer consulted, so user documents are
never dropped by a rebuild.

This module holds the pure parts: which sources an index should contain,
doc-id rules, and metadata for a new document taken from its first lines."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from index.documents import CorpusError, DocumentMeta, SourceDocument, corpus_fingerprint, load_corpus
from index.store import IndexCorrupt, IndexStore

log = logging.getLogger("silkqa")

DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
# Fields a caller may set on a document; everything else is derived.
METADATA_FIELDS = ("title", "title_en", "issuer", "date", "date_note", "doc_number", "kind", "aliases")
# How far into a document its title, number and date are looked for.
_HEAD_LINES = 12
_TITLE_MAX_CHARS = 80


class LibraryError(ValueError):
    """A library change that cannot be made; the message says why."""


class InvalidDocument(LibraryError):
    pass


class DocumentExists(LibraryError):
    pass


class DocumentNotFound(LibraryError):
    pass


@dataclass(frozen=True)
class Library:
    sources: list[SourceDocument]
    edited: bool  # differs from the bundled corpus


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
    if not DOC_ID.match(doc_id) or ".." in doc_id:
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


_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}[〔\[［(（]\d{4}[〕\]］)）]\d{1,5}号")
_LABELLED_DATE = re.compile(r"(?:发布时间|发布日期|成文日期|印发日期|日期)\s*[：:]\s*(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2}))?")
_DATE_LINE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?$")
_ISSUER_TITLE = re.compile(r"^(\S{2,30}?(?:等部门|部|委|局|院|厅|办公室|政府|署|会|中心))\s+((?:关于|印发).{4,})$")
_LABELLED_ISSUER = re.compile(r"^(?:发布机构|发文机关|发布单位|来源)\s*[：:]\s*(\S.{1,40})$")


def _date(match: re.Match) -> str:
    year, month, day = match.group(1), int(match.group(2)), match.group(3)
    return f"{year}-{month:02d}" + (f"-{int(day):02d}" if day else "")


def infer_metadata(cleaned: str) -> dict[str, str]:
    """Title, issuer, date and document number from a document's first lines:
    the first short line that is not a sentence is the title (an issuer in
    front of a ``关于…`` title is split off), ``发改开放〔2022〕408号`` is a
    document number, ``发布时间：2022/03/28`` or a ``2017年5月`` line a date."""
    lines = [line.strip() for line in cleaned.split("\n") if line.strip()][:_HEAD_LINES]
    found: dict[str, str] = {}
    for line in lines:
        if "title" not in found and len(line) <= _TITLE_MAX_CHARS and line[-1] not in "。；：:，,":
            if m := _ISSUER_TITLE.match(line):
                found["issuer"], found["title"] = m.group(1), m.group(2)
            else:
                found["title"] = line
        if "doc_number" not in found and (m := _DOC_NUMBER.search(line)):
            found["doc_number"] = m.group(0)
        if "date" not in found and (m := _LABELLED_DATE.search(line) or _DATE_LINE.match(line)):
            found["date"] = _date(m)
        if "issuer" not in found and (m := _LABELLED_ISSUER.match(line)):
            found["issuer"] = m.group(1).strip()
    if "date" not in found and (m := _LABELLED_DATE.search(cleaned[:5000])):
        found["date"] = _date(m)
    return found


def document_meta(
    doc_id: str,
    cleaned: str,
    given: dict,
    file_title: str | None = None,
    filename: str | None = None,
    source_format: str | None = None,
) -> DocumentMeta:
    """Metadata of a new document: what the caller gave, else what its first
    lines say, else the file's own title or name."""
    unknown = set(given) - set(METADATA_FIELDS)
    if unknown:
        raise InvalidDocument(f"unknown metadata field(s): {', '.join(sorted(unknown))}")
    inferred = infer_metadata(cleaned)
    fallback_title = file_title or (PurePosixPath(filename).stem if filename else None) or doc_id
    values = {**inferred, **{k: v for k, v in given.items() if v not in (None, "")}}
    title = str(values.get("title") or fallback_title).strip()
    if not title:
        raise InvalidDocument("title must not be blank")
    aliases = values.get("aliases") or ()
    if isinstance(aliases, str):
        aliases = [a.strip() for a in aliases.split(",")]
    return DocumentMeta(
        doc_id=doc_id,
        title=title,
        issuer=values.get("issuer"),
        date=values.get("date"),
        doc_number=values.get("doc_number"),
        kind=values.get("kind"),
        original_file=filename,
        title_en=values.get("title_en"),
        date_note=values.get("date_note"),
        aliases=tuple(a for a in aliases if a),
        source_format=source_format,
    )


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
