"""Turning an uploaded file into the original text a document is indexed from.

Each format yields plain text in reading order, which is what the offset map
of the cleaned text points back to (for a PDF or a web page the original is
the extracted text, not the file's bytes). Structure that cleaning and the
heading tree understand is kept: paragraphs on their own lines, table rows as
tab-separated cells with blank cells left blank (so a category printed once per
group carries forward), PDF line wraps left for the cleaner to repair."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from xml.etree import ElementTree

from silkqa.index.ingest.sandbox import extract_isolated
from silkqa.index.ingest.types import Extracted, ExtractionLimits, TooCostlyDocument, UndecodableDocument, UnsupportedFormat

TEXT, MARKDOWN, HTML, PDF, DOCX = "text", "markdown", "html", "pdf", "docx"
EXTENSIONS = {
    ".txt": TEXT,
    ".text": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".html": HTML,
    ".htm": HTML,
    ".pdf": PDF,
    ".docx": DOCX,
}
_MEDIA_TYPES = {
    "text/plain": TEXT,
    "text/markdown": MARKDOWN,
    "text/x-markdown": MARKDOWN,
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "application/pdf": PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
}
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
# Control characters never found in a text document (tab, newline, CR and form feed are fine).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Markup elements (counted as "<") a web page or .docx may have. The longest
# policy document accepted (SILKQA_MAX_DOCUMENT_CHARS, 500k characters) needs
# far fewer; parsers spend seconds and hundreds of MB per million elements.
MAX_MARKUP_ELEMENTS = 500_000


def safe_filename(filename: str | None) -> str | None:
    """The bare file name of an upload: directories (POSIX or Windows), control
    characters and leading dots removed. It is recorded, never used as a path."""
    if not filename:
        return None
    name = PureWindowsPath(PurePosixPath(filename).name).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:200] or None


def detect_format(data: bytes, filename: str | None = None, content_type: str | None = None) -> str:
    """The format of an upload: by file extension, else media type, else content."""
    name = safe_filename(filename)
    suffix = PurePosixPath(name).suffix.lower() if name else ""
    if suffix:
        if suffix not in EXTENSIONS:
            raise UnsupportedFormat(f"unsupported file type {suffix!r}; supported: {', '.join(sorted(EXTENSIONS))}")
        return EXTENSIONS[suffix]
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _MEDIA_TYPES:
        return _MEDIA_TYPES[media]
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return DOCX
    if _HTML_START.match(data[:4096]):
        return HTML
    if media and media not in ("application/octet-stream", ""):
        raise UnsupportedFormat(f"unsupported media type {media!r}")
    return TEXT


def decode_text(data: bytes) -> str:
    """Text bytes as str: UTF-8 (with or without BOM), UTF-16 with a BOM, or
    GB18030 (common for Chinese files); anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _BINARY.search(text):
            return text
    raise UndecodableDocument("the file is not text in UTF-8, UTF-16 or GB18030 (binary or unknown encoding)")


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds characters no text document has (NUL, escape, ...)."""
    return bool(_BINARY.search(text))


def extract(
    data: bytes, filename: str | None = None, content_type: str | None = None, limits: ExtractionLimits | None = None
) -> Extracted:
    """The text of an uploaded file, or a ``FormatError`` saying why not. With
    ``limits`` (an upload), a PDF, web page or .docx is parsed in a child
    process within them; without (files the service trusts: tests, benches),
    here. Plain text and Markdown are only decoded, always here."""
    if not data.strip():
        raise UndecodableDocument("the file is empty")
    fmt = detect_format(data, filename, content_type)
    if limits is not None and fmt not in (TEXT, MARKDOWN):
        return extract_isolated(fmt, data, limits)
    return extract_format(fmt, data)


def extract_format(fmt: str, data: bytes) -> Extracted:
    """The text of a file known to be ``fmt``, extracted in this process."""
    extracted = _EXTRACTORS[fmt](data)
    if not extracted.text.strip():
        raise UndecodableDocument(f"no text found in the {fmt} file")
    return extracted


def _plain(fmt: str) -> Callable[[bytes], Extracted]:
    return lambda data: Extracted(decode_text(data), fmt)


# --- HTML ------------------------------------------------------------------


def _html(data: bytes) -> Extracted:
    import trafilatura

    html = decode_text(data)
    if (elements := html.count("<")) > MAX_MARKUP_ELEMENTS:
        raise TooCostlyDocument(f"the HTML page has {elements} markup tags; at most {MAX_MARKUP_ELEMENTS} are read")
    # XML output keeps tables as rows and cells (markdown output would flatten
    # blank cells away); recall mode rescues short pages precision mode drops.
    try:
        xml = trafilatura.extract(html, output_format="xml", include_tables=True, with_metadata=True) or trafilatura.extract(
            html, output_format="xml", include_tables=True, with_metadata=True, favor_recall=True
        )
        root = ElementTree.fromstring(xml) if xml else None
    except Exception as exc:  # a parser failure on hostile markup: the page is unreadable, not the server broken
        raise UndecodableDocument(f"the HTML page cannot be parsed: {exc}") from exc
    if root is None:
        raise UndecodableDocument("no main text found in the HTML page")
    main = root.find("main")
    lines = [line for element in (main if main is not None else []) for line in _xml_lines(element)]
    return Extracted("\n".join(lines), HTML, root.get("title") or None)


def _xml_text(element: ElementTree.Element) -> str:
    parts = [element.text or ""]
    for child in element:
        parts.append("\n" if child.tag == "lb" else _xml_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _xml_lines(element: ElementTree.Element) -> list[str]:
    if element.tag == "table":
        return ["\t".join(" ".join(_xml_text(cell).split()) for cell in row) for row in element.iter("row")]
    if element.tag == "list":
        return [line for item in element for line in _xml_lines(item)]
    lines = [line.strip() for line in _xml_text(element).split("\n")]
    return [line for line in lines if line]


# --- PDF -------------------------------------------------------------------


def _pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UndecodableDocument("the PDF is encrypted")
        # Pages are joined by a blank line; the cleaner joins a sentence that
        # runs across the break and drops the page numbers left on their own.
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
        title = reader.metadata.title if reader.metadata else None
    except UndecodableDocument:
        raise
    except Exception as exc:  # pypdf fails on damaged files with many exception types (PdfReadError, IndexError, zlib.error, ...)
        raise UndecodableDocument(f"not a readable PDF: {exc}") from exc
    if not text.strip():
        raise UndecodableDocument("the PDF has no text layer (a scan?): run OCR on it first")
    return Extracted(text, PDF, (title or "").strip() or None)


# --- .docx -----------------------------------------------------------------


# A .docx is a zip: a few MB can unpack to many GB (a "zip bomb"). Its members'
# declared sizes bound what zipfile will inflate, so checking them suffices.
MAX_DOCX_UNPACKED_BYTES = 100 * 1024 * 1024


def _refuse_zip_bomb(data: bytes) -> None:
    """A .docx whose parts unpack too large or hold too many XML elements (a
    few KB of ``<w:p/>`` compress to nothing) is refused before it is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
            if unpacked > MAX_DOCX_UNPACKED_BYTES:
                raise TooCostlyDocument(
                    f"the .docx would unpack to {unpacked} bytes; the limit is {MAX_DOCX_UNPACKED_BYTES} (a zip bomb?)"
                )
            elements = 0
            for member in archive.infolist():
                with archive.open(member) as part:
                    while chunk := part.read(1 << 20):
                        elements += chunk.count(b"<")
                        if elements > MAX_MARKUP_ELEMENTS:
                            raise TooCostlyDocument(
                                f"the .docx has more than {MAX_MARKUP_ELEMENTS} XML elements; that many are not read"
                            )
    except TooCostlyDocument:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:  # damaged members, odd compression
        raise UndecodableDocument(f"not a readable .docx file: {exc}") from exc


def _docx(data: bytes) -> Extracted:
    import docx
    from docx.table import Table

    _refuse_zip_bomb(data)
    try:
        document = docx.Document(io.BytesIO(data))
        lines = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_docx_rows(block))
            elif block.text.strip():
                lines.append(block.text.strip())
        title = (document.core_properties.title or "").strip() or None
    except Exception as exc:  # python-docx fails on damaged files with zip, XML and key errors alike
        raise UndecodableDocument(f"not a readable .docx file: {exc}") from exc
    return Extracted("\n".join(lines), DOCX, title)


def _docx_rows(table: Any) -> list[str]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            # A horizontally merged cell appears once per grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        rows.append("\t".join(cells))
    return rows


_EXTRACTORS: dict[str, Callable[[bytes], Extracted]] = {
    TEXT: _plain(TEXT),
    MARKDOWN: _plain(MARKDOWN),
    HTML: _html,
    PDF: _pdf,
    DOCX: _docx,
}
