"""Recognising the headings of Chinese policy documents, line by line.

Policy texts number their structure in a handful of conventional ways:
``一、`` parts, ``（一）`` items, ``1.`` points, ``——`` lead items, ``专栏一`` boxes,
``附件`` annexes with year lines, and research papers' ``3.3.1`` sections. Many
items are *inline*: the heading is the first clause of the paragraph
(``（四）加强绿色基础设施互联互通。引导企业…``), so a match carries both the
heading's title and whether body text follows on the same line."""

from __future__ import annotations

import re

from silkqa.index.ingest.types import Heading, HeadingKind

CN_NUM = "一二三四五六七八九十"
TERMINAL = "。！？；"
# Longest clause still read as a heading title; anything longer is body text.
MAX_TITLE_CHARS = 40


_PART = re.compile(rf"^([{CN_NUM}]+)、\s*(\S.*)$")
_ITEM = re.compile(rf"^[（(]([{CN_NUM}]+)[）)]\s*(\S.*)$")
_POINT = re.compile(r"^(\d{1,2})[.．](?!\d)\s*(\S.*)$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\s+(\S.*)$")
_BOX = re.compile(rf"^专栏([{CN_NUM}]+)\s*(.*)$")
_YEAR = re.compile(r"^((?:19|20)\d{2})\s*年$")
_NAMED_PART = re.compile(r"^(前\s*言|引\s*言|附\s*件|结\s*语|摘\s*要|Abstract\s*:|参考文献)\s*(.*)$")
_LEAD_DASH = re.compile(r"^——\s*(\S.*)$")
# A short opening clause closed by 。 and followed by more text:
# "传播生态文明理念。充分利用现有多双边合作机制…"
_LEAD_CLAUSE = re.compile(r"^([^，。；：！？\s]{4,8}(?:，[^，。；：！？\s]{4,8})?)。(?=\S)")


def _split_title(rest: str) -> tuple[str, bool]:
    """Title = the text up to the first 。 when body follows, else the whole line."""
    cut = rest.find("。")
    if 0 <= cut <= MAX_TITLE_CHARS and cut < len(rest) - 1:
        return rest[:cut], True
    return rest.rstrip("。"), False


def classify(line: str, paragraph: bool = False) -> Heading | None:
    """The heading that starts ``line`` (already stripped), if any.

    ``paragraph`` says the line is known to start a paragraph (after line wraps
    were joined); only then is a short opening clause read as a lead item, since
    a wrapped line such as "和积极响应。…" looks the same.

    Numbered paper sections (``3.1  标题``) are returned as candidates; whether
    the number fits the document's sequence is decided by the caller, since
    ``2 倍或 2 倍以上`` at the start of a wrapped line looks the same."""
    line = line.strip()
    if not line or len(line) > 2000:
        return None
    if m := _NAMED_PART.match(line):
        label = re.sub(r"\s+", "", m.group(1)).rstrip(":")
        return Heading(HeadingKind.PART, label, inline=bool(m.group(2)), number=label)
    if m := _PART.match(line):
        title, inline = _split_title(m.group(2))
        if inline or len(line) <= MAX_TITLE_CHARS:
            return Heading(HeadingKind.PART, f"{m.group(1)}、{title}", inline, m.group(1))
    if m := _ITEM.match(line):
        title, inline = _split_title(m.group(2))
        return Heading(HeadingKind.ITEM, f"（{m.group(1)}）{title}", inline, m.group(1))
    if m := _BOX.match(line):
        return Heading(HeadingKind.BOX, line if len(line) <= MAX_TITLE_CHARS else line[:MAX_TITLE_CHARS], False, m.group(1))
    if m := _YEAR.match(line):
        return Heading(HeadingKind.YEAR, f"{m.group(1)}年", False, m.group(1))
    if m := _POINT.match(line):
        title, inline = _split_title(m.group(2))
        return Heading(HeadingKind.POINT, f"{m.group(1)}. {title}", inline, m.group(1))
    if m := _NUMBERED.match(line):
        rest = m.group(2)
        if len(line) <= MAX_TITLE_CHARS and rest[-1] not in TERMINAL + "，、" and not rest[0].isdigit():
            return Heading(HeadingKind.NUMBERED, f"{m.group(1)} {rest}", False, m.group(1))
    if m := _LEAD_DASH.match(line):
        title, inline = _split_title(m.group(1))
        return Heading(HeadingKind.LEAD, title, inline)
    if paragraph and (m := _LEAD_CLAUSE.match(line)):
        return Heading(HeadingKind.LEAD, m.group(1), True)
    return None


def cn_number(numeral: str) -> int:
    """一 -> 1, 十二 -> 12, 二十一 -> 21 (the range item numbers use)."""
    if "十" not in numeral:
        return CN_NUM.index(numeral) + 1 if numeral in CN_NUM else 0
    tens, _, ones = numeral.partition("十")
    return (CN_NUM.index(tens) + 1 if tens else 1) * 10 + (CN_NUM.index(ones) + 1 if ones else 0)


def follows(previous: str | None, candidate: str) -> bool:
    """Whether paper section number ``candidate`` can come after ``previous``:
    the next sibling at any level, or the first child (``3.3`` -> ``3.3.1``)."""
    parts = [int(p) for p in candidate.split(".")]
    if previous is None:
        return parts == [1]
    prev = [int(p) for p in previous.split(".")]
    if parts == prev + [1]:
        return True
    for depth in range(1, len(prev) + 1):
        if parts == prev[: depth - 1] + [prev[depth - 1] + 1]:
            return True
    return False
