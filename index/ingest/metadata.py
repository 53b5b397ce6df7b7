"""Metadata of a new document: what the caller gave, else what its first lines
say (title, issuer, date, document number), else the file's own title or name."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from silkqa.index.ingest.types import DocumentMeta, InvalidDocument
from silkqa.index.language import HAN_RANGE

# Fields a caller may set on a document; everything else is derived.
METADATA_FIELDS = ("title", "title_en", "issuer", "date", "date_note", "doc_number", "kind", "aliases")
# How far into a document its title, number and date are looked for.
_HEAD_LINES = 12
_TITLE_MAX_CHARS = 80
_DOC_NUMBER = re.compile(rf"[{HAN_RANGE}]{{1,10}}[〔\[［(（]\d{{4}}[〕\]］)）]\d{{1,5}}号")
_LABELLED_DATE = re.compile(
    r"(?:发布时间|发布日期|成文日期|印发日期|日期)\s*[：:]\s*(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2}))?"
)
_DATE_LINE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?$")
_ISSUER_TITLE = re.compile(r"^(\S{2,30}?(?:等部门|部|委|局|院|厅|办公室|政府|署|会|中心))\s+((?:关于|印发).{4,})$")
_LABELLED_ISSUER = re.compile(r"^(?:发布机构|发文机关|发布单位|来源)\s*[：:]\s*(\S.{1,40})$")


def _date(match: re.Match[str]) -> str:
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
    given: dict[str, Any],
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
