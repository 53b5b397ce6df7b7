"""Sentence spans in mixed Chinese/English text."""

from __future__ import annotations

import re

# A Chinese sentence ends at 。！？； (with any closing quotes or brackets after
# it); an English one at . ! ? followed by a space and a capital or a digit.
_END = re.compile(r"[。！？；]+[”’」』）)]*|(?<=[a-z0-9)”\"])[.!?]+(?=\s+[A-Z0-9“\"])")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans ``[s, e)`` of the sentences in ``text[start:end]``, whitespace trimmed,
    in absolute offsets; concatenated they cover every non-space character."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _END.finditer(text, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed
