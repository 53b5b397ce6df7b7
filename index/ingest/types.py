"""The data of the ingest stage: documents as they arrive, their cleaned text
with its map back to the original, the heading tree's blocks, and chunks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np


@dataclass(frozen=True)
class DocumentMeta:
    doc_id: str
    title: str
    issuer: str | None = None
    date: str | None = None
    doc_number: str | None = None
    kind: str | None = None
    original_file: str | None = None
    title_en: str | None = None
    date_note: str | None = None
    aliases: tuple[str, ...] = ()  # what users call it: "指导意见", "那篇论文"
    source_format: str | None = None  # how an uploaded document's text was obtained: text, markdown, html, pdf, docx

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentMeta:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["aliases"] = tuple(known.get("aliases") or ())
        return cls(**known)


@dataclass(frozen=True)
class SourceDocument:
    meta: DocumentMeta
    raw: str

    @property
    def fingerprint(self) -> str:
        payload = json.dumps(self.meta.to_json(), sort_keys=True, ensure_ascii=False) + "\x1f" + self.raw
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class OffsetMap:
    """Cleaned offset -> original offset, stored as runs of consecutive characters.

    ``runs`` holds ``(clean_start, orig_start, length)`` triples; between runs the
    cleaner deleted or replaced text. Compact enough to ship in the index and in
    ``GET /v1/documents/{id}``."""

    runs: tuple[tuple[int, int, int], ...]
    clean_length: int

    @classmethod
    def from_origin(cls, origin: np.ndarray) -> OffsetMap:
        runs: list[tuple[int, int, int]] = []
        if len(origin):
            breaks = np.flatnonzero(np.diff(origin) != 1) + 1
            starts = np.concatenate(([0], breaks))
            ends = np.concatenate((breaks, [len(origin)]))
            runs = [(int(s), int(origin[s]), int(e - s)) for s, e in zip(starts, ends, strict=True)]
        return cls(runs=tuple(runs), clean_length=len(origin))

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span covering cleaned ``[start, end)``."""
        if not 0 <= start <= end <= self.clean_length:
            raise ValueError(f"span [{start}, {end}) outside the cleaned text")
        if start == end:
            return self._point(start), self._point(start)
        return self._point(start), self._point(end - 1) + 1

    def _point(self, offset: int) -> int:
        lo, hi = 0, len(self.runs) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.runs[mid][0] <= offset:
                lo = mid
            else:
                hi = mid - 1
        clean_start, orig_start, length = self.runs[lo]
        return orig_start + min(offset - clean_start, max(length - 1, 0))

    def to_json(self) -> list[list[int]]:
        return [list(run) for run in self.runs]

    @classmethod
    def from_json(cls, runs: list[list[int]], clean_length: int) -> OffsetMap:
        return cls(runs=tuple((a, b, c) for a, b, c in runs), clean_length=clean_length)


@dataclass(frozen=True)
class CleanedText:
    text: str
    offsets: OffsetMap


@dataclass(frozen=True)
class Extracted:
    text: str  # the original text offsets point back to
    format: str
    title: str | None = None  # from the file's own metadata (<title>, PDF /Title, docx core title)


class HeadingKind(StrEnum):
    PART = "part"  # 一、  前言  附件  引言  摘要  Abstract
    ITEM = "item"  # （一）
    POINT = "point"  # 1.
    NUMBERED = "numbered"  # 3.3.1 (papers)
    LEAD = "lead"  # ——理念先行，合作共享。 / 传播生态文明理念。…
    BOX = "box"  # 专栏一 …
    YEAR = "year"  # 2015 年 (chronology annex)


@dataclass(frozen=True)
class Heading:
    kind: HeadingKind
    title: str  # as printed, e.g. "（三）加强人才队伍建设"
    inline: bool  # body text follows on the same line
    number: str = ""  # "3.3.1" for NUMBERED, "三" for PART/ITEM, etc.


class BlockKind(StrEnum):
    HEADING = "heading"  # a heading line with nothing else on it
    BODY = "body"  # a paragraph (possibly opening with an inline heading)
    TABLE_HEADER = "table_header"
    TABLE_ROW = "table_row"


@dataclass(frozen=True)
class Block:
    start: int
    end: int
    kind: BlockKind
    path: tuple[str, ...]
    # For table rows: "规划涉及 25 个重点项目；类目：贸易畅通；…" — the table's
    # caption, the header and inherited cells, which the row's own text lacks.
    # Indexed alongside the row, never cited.
    context: str = ""


Span = tuple[int, int]


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    ordinal: int
    section: tuple[str, ...]
    start: int
    end: int
    text: str
    context: str
    sentences: tuple[Span, ...]  # absolute spans in the cleaned text

    @property
    def content_hash(self) -> str:
        payload = "\x1f".join((" › ".join(self.section), self.context, self.text))
        return hashlib.sha256(payload.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class ChunkingOptions:
    """Built from ``Settings`` (``SILKQA_CHUNK_*``)."""

    max_tokens: int
    overlap_sentences: int


@dataclass(frozen=True)
class ExtractionLimits:
    """What turning one uploaded file into text may cost: a PDF, web page or
    .docx is extracted in a child process that is killed after ``seconds`` (of
    CPU or of waiting) and may map at most ``memory_bytes``. Built from
    ``Settings`` (``SILKQA_EXTRACT_*``)."""

    seconds: float
    memory_bytes: int


class CorpusError(ValueError):
    """The corpus directory or its manifest is unusable."""


class DocumentError(ValueError):
    """A document that cannot be indexed; the message says why."""


class InvalidDocument(DocumentError):
    """Its text or metadata cannot be used (blank, unknown fields, a bad id)."""


class FormatError(DocumentError):
    """A file that cannot become a document."""


class UnsupportedFormat(FormatError):
    pass


class UndecodableDocument(FormatError):
    pass


class TooCostlyDocument(FormatError):
    """A file whose extraction would take more time, memory or markup than a
    document may (a parser bomb, or a file far larger than any policy text)."""
