"""Cleaning raw document text into the text that citations point into.

Each rule is a small pure function ``rule(text) -> list[Edit]`` aimed at one
defect found in real documents (PDF line wraps, page numbers, a sidebar injected
into a web page, headings printed twice, ...). ``clean`` runs them in the fixed
order of ``RULES`` and tracks, for every character kept, where it came from in
the original (see ``offsets``). Rules never rewrite body characters other
than odd spaces and full-width letters/digits, so a cited quote reads exactly
as the document does."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable

import numpy as np

from silkqa.index.ingest import headings
from silkqa.index.ingest.offsets import Edit, apply_edits
from silkqa.index.ingest.types import CleanedText, Heading, HeadingKind, OffsetMap

Rule = Callable[[str], list[Edit]]

_LINE = re.compile(r"[^\n]*\n?")


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end_without_newline, content) for every line."""
    out = []
    for m in _LINE.finditer(text):
        if m.start() == len(text):
            break
        content = m.group(0).rstrip("\n")
        out.append((m.start(), m.start() + len(content), content))
    return out


def _drop_lines(text: str, keep: Callable[[str], bool]) -> list[Edit]:
    """Delete every line (with its newline) for which ``keep`` is false."""
    edits = []
    for start, end, content in _lines(text):
        if not keep(content):
            edits.append(Edit(start, min(end + 1, len(text))))
    return edits


# --- 1. characters ---------------------------------------------------------

_ODD_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\ufeff\r]")
_FULLWIDTH_ALNUM = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def normalize_characters(text: str) -> list[Edit]:
    """Odd Unicode spaces (en/em/ideographic/no-break) become plain spaces, CR is
    dropped, and full-width letters and digits become ASCII (NFKC's safe subset).
    Full-width punctuation stays: it is what the reader sees and cites."""
    edits = []
    for m in _ODD_SPACES.finditer(text):
        edits.append(Edit(m.start(), m.end(), "" if m.group() in "\r\ufeff" else " "))
    for m in _FULLWIDTH_ALNUM.finditer(text):
        edits.append(Edit(m.start(), m.end(), chr(ord(m.group()) - 0xFEE0)))
    return edits


_MD_HEADING = re.compile(r"^(\s*#{1,6}[ \t]+)\S")
_MD_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*\|?\s*$")
_MD_CELL_BAR = re.compile(r"[ \t]*\|[ \t]*")


def strip_markdown_markup(text: str) -> list[Edit]:
    """Markdown syntax that hides structure: ``## `` before a heading (so
    "## 一、重要意义" is recognised as part 一), and pipe tables, whose rows
    become tab-separated cells like every other table (blank cells stay blank)
    and whose ``|---|`` rule line is dropped."""
    edits = []
    for start, end, content in _lines(text):
        if m := _MD_HEADING.match(content):
            edits.append(Edit(start, start + m.end(1)))
        elif _MD_TABLE_RULE.match(content) and "-" in content:
            edits.append(Edit(start, min(end + 1, len(text))))
        elif _MD_TABLE_ROW.match(content):
            bars = list(_MD_CELL_BAR.finditer(content))
            edits.append(Edit(start, start + bars[0].end()))
            edits.extend(Edit(start + b.start(), start + b.end(), "\t") for b in bars[1:-1])
            edits.append(Edit(start + bars[-1].start(), end))
    return edits


# --- 2. web page boilerplate -------------------------------------------------

_MD_LINK = r"\[[^\]\n]*\]\([^)\n]*\)"
_NAV_LINE = re.compile(rf"^\s*(?:{_MD_LINK}\s*[>|｜/]?\s*)+$")
_FOOTER_LINE = re.compile(r"^\s*(?:\[打印\]|\[关闭\]|主办单位[：:]|承办单位[：:]|技术支持[：:]|网站标识码|.*版权所有|.*ICP备)")


def drop_web_boilerplate(text: str) -> list[Edit]:
    """Site navigation and breadcrumbs (lines made only of Markdown links), and
    footer lines ([打印], 主办单位, 版权所有, ICP numbers)."""
    return _drop_lines(text, lambda line: not (_NAV_LINE.match(line) or _FOOTER_LINE.match(line)))


_SIDEBAR_START = re.compile(r"^\s*(排行榜|相关解读|相关链接|相关阅读|热点推荐|推荐阅读|相关文章)\s*$")


def drop_injected_sidebar(text: str) -> list[Edit]:
    """A scraped page may carry a sidebar (排行榜 lists, 相关解读 links) in the
    middle of a sentence. The block runs from its marker line to the first line
    that reads as body text again (it ends a sentence); deleting it lets the
    line-wrap rule re-join the sentence it split."""
    lines = _lines(text)
    edits = []
    i = 0
    while i < len(lines):
        start, _, content = lines[i]
        if not _SIDEBAR_START.match(content):
            i += 1
            continue
        j = i + 1
        while j < len(lines):
            body = lines[j][2].strip()
            if body and body[-1] in headings.TERMINAL and len(body) > 6:
                break
            j += 1
        if j == len(lines):  # no body after it: not an injected block, leave it
            break
        edits.append(Edit(start, lines[j][0]))
        i = j
    return edits


# --- 3. print layout -----------------------------------------------------------

_TOC_ENTRY = re.compile(r"^\s*\S.{0,80}?(?:\.{3,}|…{2,}|·{3,})\s*\d{1,3}\s*$")
_TOC_TITLE = re.compile(r"^\s*目\s*录\s*$")


def drop_table_of_contents(text: str) -> list[Edit]:
    """The 目录 block: its title and the entries with dot leaders and page numbers."""
    lines = _lines(text)
    edits = []
    for idx, (start, end, content) in enumerate(lines):
        if _TOC_TITLE.match(content):
            nxt = [ln for ln in lines[idx + 1 : idx + 4] if ln[2].strip()]
            if nxt and _TOC_ENTRY.match(nxt[0][2]):
                edits.append(Edit(start, min(end + 1, len(text))))
        elif _TOC_ENTRY.match(content):
            edits.append(Edit(start, min(end + 1, len(text))))
    return edits


_PAGE_NUMBER = re.compile(r"^\s*(?:-\s*)?\d{1,3}(?:\s*-)?\s*$")
_JUMP_MARKER = re.compile(r"[（(]\s*[上下]转\s*\d+\s*页\s*[）)]|[（(]\s*[上下]接第?\s*\d+\s*页\s*[）)]")


def drop_page_numbers(text: str) -> list[Edit]:
    """Lone page numbers printed between the lines of a PDF page."""
    return _drop_lines(text, lambda line: not _PAGE_NUMBER.match(line))


def drop_jump_markers(text: str) -> list[Edit]:
    """Continuation markers such as （下转 41 页）; the whole line when alone on it."""
    edits = []
    for start, end, content in _lines(text):
        for m in _JUMP_MARKER.finditer(content):
            alone = not content.replace(m.group(), "").strip()
            if alone:
                edits.append(Edit(start, min(end + 1, len(text))))
                break
            edits.append(Edit(start + m.start(), start + m.end()))
    return edits


_NUMBER_PREFIX = re.compile(r"\d{1,2}[.．]\s*")


def dedupe_heading(line: str) -> list[tuple[int, int]]:
    """Spans to delete from a heading printed twice, or [] if it is not one.

    Handles the forms seen in PDF extractions: ``1. 甲1. 甲`` (exact repeat),
    ``1. 1. 甲甲`` (numbers then titles) and ``3. 甲乙3. 甲`` (the repeat cut short)."""
    first = _NUMBER_PREFIX.match(line)
    if not first:
        return []
    prefixes = [
        m.span()
        for m in _NUMBER_PREFIX.finditer(line)
        if line[m.start() : m.end()].strip()[:-1] == line[: first.end()].strip()[:-1]
    ]
    in_prefix: set[int] = set()
    for s, e in prefixes[1:]:
        in_prefix.update(range(s, e))
    core_positions = [i for i in range(first.end(), len(line)) if i not in in_prefix and not line[i].isspace()]
    core = "".join(line[i] for i in core_positions)
    for k in range((len(core) + 1) // 2, len(core)):
        head, tail = core[:k], core[k:]
        if len(tail) >= max(4, int(0.6 * len(head))) and head.startswith(tail):
            keep_until = core_positions[k - 1] + 1
            drop = sorted(set(range(keep_until, len(line))) | in_prefix)
            spans: list[tuple[int, int]] = []
            for i in drop:
                if spans and spans[-1][1] == i:
                    spans[-1] = (spans[-1][0], i + 1)
                else:
                    spans.append((i, i + 1))
            return spans
    return []


def dedupe_doubled_headings(text: str) -> list[Edit]:
    """Headings the PDF extraction printed twice ("1. 深化…沟通1. 深化…沟通")."""
    edits = []
    for start, _, content in _lines(text):
        indent = len(content) - len(content.lstrip())
        for s, e in dedupe_heading(content.strip()):
            edits.append(Edit(start + indent + s, start + indent + e))
    return edits


# --- 4. line wraps -------------------------------------------------------------

_BREAK_RUN = re.compile(r"[ ]*\n[ \n]*")
_CONTINUES = "，、"


def _wrap_width(text: str) -> float:
    lengths = [len(c.strip()) for _, _, c in _lines(text) if len(c.strip()) >= 8]
    return statistics.median(lengths) if lengths else 80.0


class _HeadingTracker:
    """Answers "is this line a heading?" in document order, keeping the numbering
    of paper sections consistent (``2 倍以上`` is not section 2 twice)."""

    def __init__(self, wrap_width: float):
        self.wrap_width = wrap_width
        self.last_numbered: str | None = None
        self.cache: dict[int, Heading | None] = {}

    def at(self, offset: int, line: str) -> Heading | None:
        if offset not in self.cache:
            found = headings.classify(line)
            if found and found.kind is HeadingKind.NUMBERED:
                if headings.follows(self.last_numbered, found.number):
                    self.last_numbered = found.number
                else:
                    found = None
            self.cache[offset] = found
        return self.cache[offset]

    def standalone(self, offset: int, line: str) -> bool:
        found = self.at(offset, line)
        if not found or found.inline:
            return False
        short = len(line) < 0.8 * self.wrap_width
        return short or found.kind in (HeadingKind.NUMBERED, HeadingKind.YEAR, HeadingKind.BOX)


def join_line_wraps(text: str) -> list[Edit]:
    """Undo hard line wraps: a wrapped line is joined to the next with no space
    between Chinese characters (one space between Latin words), while real
    paragraph ends stay as a single newline. A line ends a paragraph when it is
    a heading, ends a sentence, is short for this document, is a table row, or
    the next line starts a heading."""
    width = _wrap_width(text)
    tracker = _HeadingTracker(width)
    edits = []
    for m in _BREAK_RUN.finditer(text):
        s, e = m.span()
        prev_start = text.rfind("\n", 0, s) + 1
        prev = text[prev_start:s].strip()
        next_end = text.find("\n", e)
        nxt = text[e : next_end if next_end >= 0 else len(text)].strip()
        if not prev or not nxt:
            continue  # document start/end: trimmed separately
        next_is_heading = tracker.at(e, nxt) is not None
        prev_is_heading = tracker.standalone(prev_start, prev)
        if "\t" in prev or "\t" in nxt or next_is_heading or prev_is_heading:
            joined = False
        elif prev[-1] in _CONTINUES:
            joined = True
        else:
            ends_sentence = prev[-1] in headings.TERMINAL + "：:" or prev.endswith(("。”", "。）", "！”", "？”"))
            # Short lines end paragraphs (titles, signatures). "Short" is relative to
            # this document's wrap width, but a line of 20+ characters followed by
            # ordinary text is a wrap even where long paragraph lines skew the width.
            title_like_next = len(nxt) < 20 and nxt[-1] not in headings.TERMINAL
            joined = not ends_sentence and (len(prev) >= 0.75 * width or (len(prev) >= 20 and not title_like_next))
        if joined:
            latin = prev[-1].isascii() and nxt[0].isascii() and prev[-1] not in "-—/"
            edits.append(Edit(s, e, " " if latin else ""))
        elif m.group() != "\n":
            edits.append(Edit(s, e, "\n"))
    return edits


def trim_document(text: str) -> list[Edit]:
    """Whitespace before the first and after the last character."""
    stripped = text.strip()
    if not stripped:
        return [Edit(0, len(text))] if text else []
    head = text.find(stripped[0])
    tail = head + len(stripped)
    return [e for e in (Edit(0, head), Edit(tail, len(text))) if e.end > e.start]


RULES: tuple[Rule, ...] = (
    normalize_characters,
    strip_markdown_markup,
    drop_web_boilerplate,
    drop_injected_sidebar,
    drop_table_of_contents,
    drop_page_numbers,
    drop_jump_markers,
    dedupe_doubled_headings,
    join_line_wraps,
    trim_document,
)


def clean(raw: str, rules: tuple[Rule, ...] = RULES) -> CleanedText:
    """Run ``rules`` in order; the result keeps a map back to ``raw``."""
    text = raw
    origin = np.arange(len(raw), dtype=np.int64)
    for rule in rules:
        text, origin = apply_edits(text, origin, rule(text))
    return CleanedText(text=text, offsets=OffsetMap.from_origin(origin))
