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
            runs = [(int(s), int(origin[s]), int(e - s)) for s, e in zip(starts, ends)]
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
