"""The heading tree of a cleaned document, as a list of paragraph blocks.

Every paragraph (a line of the cleaned text) gets the section path it sits
under, e.g. ``("四、组织保障", "（三）加强人才队伍建设")``. Boxed case studies
(专栏) nest their own （一） items; table rows carry their column headers and any
value a blank cell inherits from the rows above (the category of a project table
is printed only on a group's first row)."""

from __future__ import annotations

from dataclasses import dataclass

from silkqa.index.ingest import headings
from silkqa.index.ingest.types import Block, BlockKind, Heading, HeadingKind

PATH_SEPARATOR = " › "
# How much of a long heading a section path shows.
PATH_TITLE_CHARS = 24


def shorten(title: str) -> str:
    return title if len(title) <= PATH_TITLE_CHARS else title[:PATH_TITLE_CHARS] + "…"


def format_path(path: tuple[str, ...]) -> str:
    return PATH_SEPARATOR.join(path)


_RANK = {
    HeadingKind.PART: 1,
    HeadingKind.YEAR: 2,
    HeadingKind.ITEM: 2,
    HeadingKind.POINT: 3,
    HeadingKind.LEAD: 4,
    HeadingKind.BOX: 4,
}
_BOX_ITEM_RANK = 5


@dataclass(frozen=True)
class _Open:
    rank: int
    kind: HeadingKind
    title: str
    number: int = 0  # item number, for telling a box's cases from the document's items


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + lead + len(stripped)))
        pos += len(line) + 1
    return spans


def _rank(heading: Heading, stack: list[_Open], next_heading: Heading | None) -> int:
    if heading.kind is HeadingKind.NUMBERED:
        return heading.number.count(".") + 1
    if heading.kind is HeadingKind.ITEM and any(o.kind is HeadingKind.BOX for o in stack):
        # A box numbers its cases （一）（二）… like the document numbers its items.
        # Numbering continuity decides; when both fit, the document's own item is
        # the one followed by a "1." point rather than by case text.
        number = headings.cn_number(heading.number)
        last_case = next((o.number for o in stack if o.rank == _BOX_ITEM_RANK), 0)
        last_item = next((o.number for o in stack if o.rank == _RANK[HeadingKind.ITEM] and o.kind is HeadingKind.ITEM), 0)
        fits_box, fits_doc = number == last_case + 1, number == last_item + 1
        if fits_box and (not fits_doc or not (next_heading and next_heading.kind is HeadingKind.POINT)):
            return _BOX_ITEM_RANK
    return _RANK[heading.kind]


def parse_blocks(text: str) -> list[Block]:
    """Split cleaned ``text`` into paragraph blocks with their section paths."""
    paragraphs = _paragraphs(text)
    found: list[Heading | None] = []
    last_numbered: str | None = None
    for start, end in paragraphs:
        line = text[start:end]
        heading = None if _is_table_line(text, start, end) else headings.classify(line, paragraph=True)
        if heading and heading.kind is HeadingKind.NUMBERED:
            if headings.follows(last_numbered, heading.number):
                last_numbered = heading.number
            else:
                heading = None
        found.append(heading)

    blocks: list[Block] = []
    stack: list[_Open] = []
    table_header: list[str] | None = None
    previous_row: list[str] = []
    caption = ""
    for idx, ((start, end), heading) in enumerate(zip(paragraphs, found, strict=True)):
        line = text[start:end]
        if heading is not None:
            next_heading = next((h for h in found[idx + 1 :] if h is not None), None)
            rank = _rank(heading, stack, next_heading)
            while stack and stack[-1].rank >= rank:
                stack.pop()
            number = headings.cn_number(heading.number) if heading.kind is HeadingKind.ITEM else 0
            stack.append(_Open(rank, heading.kind, shorten(heading.title), number))
        path = tuple(o.title for o in stack)
        if _is_table_line(text, start, end):
            kind, context = _table_block(text, start, end, table_header, previous_row)
            if kind is BlockKind.TABLE_HEADER:
                table_header, previous_row = text[start:end].split("\t"), []
                previous = blocks[-1] if blocks else None
                caption = (
                    table_caption(text[previous.start : previous.end]) if previous and previous.kind is BlockKind.BODY else ""
                )
            else:
                previous_row = _filled_cells(_row_cells(text, start, end), previous_row)
                context = f"{caption}；{context}" if caption else context
            blocks.append(Block(start, end, kind, path, context))
            continue
        table_header = None
        kind = (
            BlockKind.HEADING
            if heading is not None and not heading.inline and len(line) <= headings.MAX_TITLE_CHARS
            else BlockKind.BODY
        )
        blocks.append(Block(start, end, kind, path))
    return blocks


_CAPTION_END = "，,。；;：:"


def table_caption(lead: str) -> str:
    """What a table is: the paragraph before it up to its first clause break
    ("规划涉及 25 个重点项目，包括…" -> "规划涉及 25 个重点项目")."""
    cut = min((i for i in (lead.find(c) for c in _CAPTION_END) if i > 0), default=len(lead))
    return lead[: min(cut, headings.MAX_TITLE_CHARS)].strip()


def _is_table_line(text: str, start: int, end: int) -> bool:
    """Whether the paragraph ``[start, end)`` is a table row; a row whose first
    cell is blank starts with a tab just before ``start`` (spans are stripped)."""
    return "\t" in text[_line_at(text, start)[0] : end]


def _row_cells(text: str, start: int, end: int) -> list[str]:
    return [text[s:e].strip() for s, e in _cell_spans(text, _line_at(text, start)[0], end)]


def _filled_cells(cells: list[str], previous: list[str]) -> list[str]:
    return [cell or (previous[i] if i < len(previous) else "") for i, cell in enumerate(cells)]


def _table_block(text: str, start: int, end: int, header: list[str] | None, previous_row: list[str]) -> tuple[BlockKind, str]:
    cells = _row_cells(text, start, end)
    if header is None:
        return BlockKind.TABLE_HEADER, ""
    filled = _filled_cells(cells, previous_row)
    # A short row has fewer cells than the header.
    context = "；".join(f"{name}：{value}" for name, value in zip(header, filled, strict=False) if value)
    return BlockKind.TABLE_ROW, context


def _line_at(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _cell_spans(text: str, line_start: int, line_end: int) -> list[tuple[int, int]]:
    spans, pos = [], line_start
    for cell in text[line_start:line_end].split("\t"):
        spans.append((pos, pos + len(cell)))
        pos += len(cell) + 1
    return spans


def inherited_cells(text: str, row_pos: int) -> list[tuple[str, tuple[int, int]]]:
    """For the table row at ``row_pos``: (column header, span of the value) of
    each blank leading cell, the value being the nearest non-blank cell above it
    in the same column (a project's category is printed on its group's first
    row only). Spans point into ``text`` so the value can be cited exactly."""
    line_start, line_end = _line_at(text, row_pos)
    cells = _cell_spans(text, line_start, line_end)
    blank = [i for i, (s, e) in enumerate(cells) if not text[s:e].strip()]
    found: list[tuple[str, tuple[int, int]]] = []
    for column in blank:
        header, value = "", None
        probe = line_start
        while probe > 0:
            probe_start, probe_end = _line_at(text, probe - 1)
            if "\t" not in text[probe_start:probe_end]:
                break
            above = _cell_spans(text, probe_start, probe_end)
            if column < len(above) and text[above[column][0] : above[column][1]].strip():
                header = text[above[column][0] : above[column][1]].strip()  # the last one found is the header row
                value = value or above[column]
            probe = probe_start
        if value and header and text[value[0] : value[1]].strip() != header:
            found.append((header, value))
    return found


def row_group(text: str, row_pos: int) -> tuple[int, int]:
    """Span of the rows that share the first cell of the row at ``row_pos``
    (the group's first row, which prints the shared value, through the last
    row that leaves it blank)."""
    line_start, line_end = _line_at(text, row_pos)
    while text[line_start:line_end].startswith("\t") and line_start > 0:
        prev_start, prev_end = _line_at(text, line_start - 1)
        if "\t" not in text[prev_start:prev_end]:
            break
        line_start = prev_start
    end = line_end
    while end < len(text):
        next_start, next_end = _line_at(text, end + 1)
        if not text[next_start:next_end].startswith("\t"):
            break
        end = next_end
    return line_start, end
