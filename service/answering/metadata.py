"""A document's own particulars — who issued it, when, its number — from the
manifest, attested by the passages that state them: the document's own
signature block or date line, or another document that records its issuance
(the progress report's chronology: "4月 26日，中国生态环境部、外交部、…联合
发布《关于推进绿色“一带一路”建设的指导意见》。"). Where the texts disagree
(2022/03/28 on the opinion's web page, 3月16日 in the chronology), each
version is cited."""

from __future__ import annotations

import re
from collections.abc import Iterable

from silkqa.index.ingest.types import Chunk
from silkqa.index.language import compact
from silkqa.index.store.types import IndexedDocument
from silkqa.service.answering.types import MetadataField

Span = tuple[int, int]

_ORG_LINE = re.compile(r"^[\u4e00-\u9fff\s]{2,24}(部|委|局|院|署|办公室|中心|政府)$")
_DATE_LINE = re.compile(
    r"(发布时间|发布日期|成文日期|印发日期)\s*[：:]\s*\d{4}|^\s*\d{4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?\s*$"
)
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}[〔\[［(（]\d{4}[〕\]］)）]\d{1,5}号")
_MONTH_DAY = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}\s*年\s*\d{1,2}\s*月")
# A record of a document's issuance: "…联合发布《…》", "…共同印发的《…》", "…编制《…》".
_PUBLISHED = r"(?:发布|印发|出台|颁布|编制|制定)(?:的)?"
# How far from a document's start or end its signature and date lines stand.
_EDGE = 800


def manifest_value(doc: IndexedDocument, field: MetadataField) -> str | None:
    meta = doc.meta
    return {MetadataField.ISSUER: meta.issuer, MetadataField.DATE: meta.date, MetadataField.NUMBER: meta.doc_number}[field]


def _issuers(doc: IndexedDocument) -> list[str]:
    """The issuing bodies the manifest names, as the text would write them."""
    issuer = re.sub(r"（[^）]*）|\([^)]*\)", "", doc.meta.issuer or "")
    return [compact(p) for p in re.split(r"[、，,；;]", issuer) if compact(p)]


def _lines(text: str, start: int, end: int) -> list[Span]:
    spans, pos = [], start
    for line in text[start:end].split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + lead + len(line.strip())))
        pos += len(line) + 1
    return spans


def _own(doc: IndexedDocument, field: MetadataField) -> Span | None:
    """The document's own line stating ``field``, near its start or end."""
    text = doc.text
    edges = _lines(text, 0, min(len(text), _EDGE)) + _lines(text, max(0, len(text) - _EDGE), len(text))
    if field is MetadataField.ISSUER:
        block = [s for s in edges if _ORG_LINE.match(text[s[0] : s[1]])]
        return (block[0][0], block[-1][1]) if block else None
    if field is MetadataField.DATE:
        return next((s for s in edges if _DATE_LINE.search(text[s[0] : s[1]])), None)
    m = _DOC_NUMBER.search(text[: 4 * _EDGE])
    return m.span() if m else None


def _recorded(doc: IndexedDocument, field: MetadataField, passages: Iterable[Chunk]) -> list[tuple[str, Span]]:
    """Sentences of ``passages`` of other documents that name ``doc`` by title
    and state ``field``, in reading order."""
    title = compact(doc.meta.title)
    issuers = _issuers(doc)
    found = set()
    for chunk in passages:
        if chunk.doc_id == doc.meta.doc_id or title not in compact(chunk.text):
            continue
        for s, e in chunk.sentences:
            text = chunk.text[s - chunk.start : e - chunk.start]
            sentence = compact(text)
            if title not in sentence:
                continue
            if not re.search(_PUBLISHED + re.escape("《" + title + "》"), sentence):
                continue  # it names the document, not its issuance
            if field is MetadataField.ISSUER and sum(i in sentence for i in issuers) >= min(2, len(issuers)):
                found.add((chunk.doc_id, (s, e)))
            elif field is MetadataField.DATE and _MONTH_DAY.search(text):
                found.add((chunk.doc_id, (s, e)))
    return sorted(found)


def metadata_evidence(doc: IndexedDocument, field: MetadataField, passages: Iterable[Chunk]) -> list[tuple[str, Span]]:
    """(document, span) of each passage attesting ``doc``'s ``field``: its own
    line first, then the records of other documents among ``passages`` (those
    a search for its title found: reading every document is O(library))."""
    own = _own(doc, field)
    recorded = _recorded(doc, field, passages) if field is not MetadataField.NUMBER else []
    return ([(doc.meta.doc_id, own)] if own else []) + recorded
