"""Text edits that remember where every character came from.

Cleaning is a sequence of rules; each rule proposes ``Edit``s against the current
text and ``apply_edits`` performs them while carrying a per-character map back to
the original file. Citations point into the cleaned text; the map lets a client
highlight the same passage in the original (``OffsetMap.to_original``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement``."""

    start: int
    end: int
    replacement: str = ""


def apply_edits(text: str, origin: np.ndarray, edits: list[Edit]) -> tuple[str, np.ndarray]:
    """Apply non-overlapping edits; ``origin[i]`` is the original offset of ``text[i]``.

    Inserted characters map to the original offset of the span they replace, so a
    joined line wrap or a collapsed space still points at the right place."""
    if not edits:
        return text, origin
    edits = sorted(edits)
    pieces: list[str] = []
    maps: list[np.ndarray] = []
    pos = 0
    for edit in edits:
        if edit.start < pos or edit.end < edit.start or edit.end > len(text):
            raise ValueError(f"overlapping or out-of-range edit {edit} (at {pos})")
        pieces.append(text[pos : edit.start])
        maps.append(origin[pos : edit.start])
        if edit.replacement:
            anchor = origin[edit.start] if edit.start < len(text) else origin[-1] + 1 if len(origin) else 0
            pieces.append(edit.replacement)
            maps.append(np.full(len(edit.replacement), anchor, dtype=np.int64))
        pos = edit.end
    pieces.append(text[pos:])
    maps.append(origin[pos:])
    return "".join(pieces), np.concatenate(maps) if maps else origin[:0]
