"""The heading tree, as answers use it: the section a question is about, its
items, and its body in whole sentences.

"合作规划的基本原则有哪些？" lives in "（二）基本原则", whose items are the four
principles: a complete answer names all four, not the one sentence that
matched best. "2022年意见提出的主要目标是什么？" lives in "（三）主要目标", whose
body is two sentences: a complete answer quotes both, whole."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from silkqa.index.ingest.sentences import sentence_spans
from silkqa.index.ingest.structure import parse_blocks
from silkqa.index.ingest.types import Block, BlockKind
from silkqa.index.language import compact

Span = tuple[int, int]


@dataclass(frozen=True)
class Item:
    """One child section: its path and the span of its heading sentence."""

    path: tuple[str, ...]
    heading: Span


@lru_cache(maxsize=64)
def blocks_of(text: str) -> tuple[Block, ...]:
    """The document's blocks (parsed once per document text)."""
    return tuple(parse_blocks(text))


_CN = "一二三四五六七八九十"
_NUMBERING = re.compile(rf"^\s*(?:[（(][{_CN}]+[）)]|[{_CN}]+、|\d+(?:\.\d+)*[.、]?|——|专栏[{_CN}]+)\s*")


# A topic title of a modifier and a head noun, four characters ("基本原则", "主要目标").
_SHORT_TITLE = re.compile(r"[\u4e00-\u9fff]{4}")


def anchor(path: tuple[str, ...], question: str, by_head: bool = False, minimum: float = 0.5) -> tuple[str, ...] | None:
    """The deepest prefix of ``path`` whose last title the question names: at
    least ``minimum`` of the title's character pairs are in the question
    ("合作规划的基本原则有哪些？" names "（二）基本原则")."""
    asked = compact(question)
    for depth in range(len(path), 0, -1):
        title = compact(_NUMBERING.sub("", path[depth - 1])).rstrip("…。")
        pairs = [title[i : i + 2] for i in range(len(title) - 1)]
        if pairs and sum(p in asked for p in pairs) / len(pairs) >= minimum:
            return path[:depth]
        # ``by_head``: a short topic title is named by its head noun alone
        # ("从哪几个角度讲它的意义" asks for the items of "重要意义").
        if by_head and _SHORT_TITLE.fullmatch(title) and title[-2:] in asked:
            return path[:depth]
    return None


# The numeral that names a document's last part ("最后一部分", "the final section").
LAST = "最后"


def numbered(text: str, numeral: str) -> tuple[str, ...] | None:
    """The top-level section numbered ``numeral`` ("四" → "四、统筹完善绿色发展支撑保障体系"),
    or for ``LAST`` the last numbered one."""
    found = None
    for block in blocks_of(text):
        title = block.path[0].strip() if block.path else ""
        if numeral == LAST and re.match(rf"[{_CN}]+、", title):
            found = block.path[:1]
        elif numeral != LAST and title.startswith(f"{numeral}、"):
            return block.path[:1]
    return found


def is_heading(sentence: str, section: tuple[str, ...]) -> bool:
    """Whether a sentence is its section's own title ("（三）主要目标。"):
    cited with the section, not quoted as an answer."""
    if not section:
        return False
    title = compact(_NUMBERING.sub("", section[-1])).rstrip("…。")
    said = compact(_NUMBERING.sub("", sentence)).rstrip("。")
    return bool(title) and (said == title or (title.startswith(said) and len(said) >= 4))


def items(text: str, section: tuple[str, ...]) -> list[Item]:
    """The child sections of ``section`` in reading order, each with the span
    of its heading sentence (a heading line, or an inline title's first sentence)."""
    found: dict[tuple[str, ...], Item] = {}
    depth = len(section)
    for block in blocks_of(text):
        if len(block.path) != depth + 1 or block.path[:depth] != section or block.path in found:
            continue
        if block.kind in (BlockKind.TABLE_HEADER, BlockKind.TABLE_ROW):
            continue
        first = sentence_spans(text, block.start, block.end)
        if first:
            found[block.path] = Item(block.path, first[0])
    return list(found.values())


def body(text: str, section: tuple[str, ...]) -> list[Span]:
    """The whole sentences of ``section``'s own paragraphs (not its children's),
    its heading left out: a heading line, or an inline title ("（三）主要目标。")."""
    spans: list[Span] = []
    for block in blocks_of(text):
        if block.path != section or block.kind is BlockKind.HEADING:
            continue
        for s, e in sentence_spans(text, block.start, block.end):
            if not spans and is_heading(text[s:e], section):
                continue
            spans.append((s, e))
    return spans


# An inline item opens its sentence or follows a colon: "…重点从四个维度考虑：一是强化…；二是要建立…；".
_ITEM = re.compile(rf"(?:^|[：:])\s*([{_CN}])是")
# Sentences an item may run on for before the next one opens.
_ITEM_GAP = 3


def item_number(sentence: str) -> int | None:
    """The number of the inline item a sentence opens ("二是建立…" → 2), or None."""
    found = None
    for m in _ITEM.finditer(sentence):
        found = _CN.index(m.group(1)) + 1
    return found


def enumeration(text: str, spans: list[Span], at: Span) -> list[Span]:
    """The opening sentences of the other items of the inline enumeration
    ("一是…；二是…；三是…") that the sentence ``at`` is an item of, in
    reading order, among ``spans`` (the section's sentences, in order): an
    item may run on for a few sentences before the next one opens, and
    another item 一 starts another enumeration."""
    numbers = [item_number(text[s:e]) for s, e in spans]
    mine = [i for i, (s, e) in enumerate(spans) if s <= at[0] < e]
    if not mine or numbers[mine[0]] is None:
        return []
    found: list[int] = []
    for step in (1, -1):
        i = mine[0]
        wanted, gap = (numbers[i] or 0) + step, 0
        for j in range(i + step, len(spans) if step > 0 else -1, step):
            if wanted < 1:
                break
            if numbers[j] == wanted:
                found.append(j)
                wanted, gap = wanted + step, 0
                continue
            gap += 1
            if numbers[j] is not None or gap > _ITEM_GAP:
                break
    return [spans[j] for j in sorted(found)]


def has_table(text: str, section: tuple[str, ...]) -> bool:
    """Whether ``section`` holds table rows (its answer is a row group, not its body)."""
    kinds = (BlockKind.TABLE_HEADER, BlockKind.TABLE_ROW)
    return any(b.kind in kinds and b.path[: len(section)] == section for b in blocks_of(text))


def preceding(text: str, offset: int) -> str:
    """The sentence before the one at ``offset`` in its paragraph ("" at the paragraph's start)."""
    line_start = text.rfind("\n", 0, offset) + 1
    before = [span for span in sentence_spans(text, line_start, offset) if span[1] <= offset]
    return text[before[-1][0] : before[-1][1]] if before else ""


def sentence_at(text: str, offset: int) -> Span:
    """The whole sentence (ended by 。！？；) of the paragraph around ``offset``:
    a chunk may have cut an over-long sentence at a comma; a quote never does."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    for s, e in sentence_spans(text, line_start, line_end):
        if s <= offset < e:
            return s, e
    return offset, line_end


def following(text: str, span: Span) -> list[Span]:
    """The whole sentences after ``span`` in its paragraph."""
    line_end = text.find("\n", span[1])
    line_end = len(text) if line_end < 0 else line_end
    return sentence_spans(text, span[1], line_end)
