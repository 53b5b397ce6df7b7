"""Evaluation sets: loading, validating, and locating gold evidence by content.

A set is JSONL, one question per line (format in eval/README.md). Gold quotes
are matched by *content*: NFKC-normalised with all whitespace removed, so a
quote copied from the raw file still matches the cleaned text across joined
line wraps, and a set stays valid when documents are renamed (``doc`` is
informational). Unknown fields are ignored, so any set in this format runs."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Gold:
    doc: str
    quote: str


@dataclass(frozen=True)
class EvalItem:
    id: str
    lang: str
    question: str
    answerable: bool
    gold: tuple[Gold, ...]
    answer: str
    must_contain: tuple[str, ...]
    kind: str
    # What the question tests: for unanswerable ones out_of_domain,
    # absent_entity, substitution, missing_detail, false_premise or
    # wrong_document; for answerable ones list, two_document, metadata,
    # named_document or the kind.
    category: str


class EvalSetError(ValueError):
    pass


def load_eval_set(path: Path) -> list[EvalItem]:
    items, problems = [], []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(
                EvalItem(
                    id=str(row["id"]),
                    lang=row.get("lang") or "zh",
                    question=row["question"],
                    answerable=bool(row["answerable"]),
                    gold=tuple(Gold(g.get("doc", ""), g["quote"]) for g in row.get("gold", [])),
                    answer=row.get("answer", ""),
                    must_contain=tuple(row.get("must_contain", [])),
                    kind=row.get("kind") or ("answerable" if row["answerable"] else "unanswerable"),
                    category=row.get("category") or row.get("kind") or ("answerable" if row["answerable"] else "unanswerable"),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"line {lineno}: {exc!r}")
    if problems:
        raise EvalSetError(f"{path}: " + "; ".join(problems[:10]))
    return items


def normalize(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())


def _normalized_with_offsets(text: str) -> tuple[str, list[int]]:
    """``text`` normalised, with the source offset of every normalised character."""
    chars, offsets = [], []
    for i, ch in enumerate(text):
        for out in unicodedata.normalize("NFKC", ch):
            if not out.isspace():
                chars.append(out)
                offsets.append(i)
    return "".join(chars), offsets


@dataclass(frozen=True)
class Span:
    doc_id: str
    start: int
    end: int

    def overlap(self, doc_id: str, start: int, end: int) -> int:
        if doc_id != self.doc_id:
            return 0
        return max(0, min(end, self.end) - max(start, self.start))


class GoldLocator:
    """Finds where gold quotes occur in the cleaned documents."""

    def __init__(self, documents: dict[str, str]):
        self._docs = {doc_id: _normalized_with_offsets(text) for doc_id, text in documents.items()}

    def locate(self, quote: str) -> list[Span]:
        needle = normalize(quote)
        spans: list[Span] = []
        if not needle:
            return spans
        for doc_id, (norm, offsets) in self._docs.items():
            pos = norm.find(needle)
            while pos >= 0:
                spans.append(Span(doc_id, offsets[pos], offsets[pos + len(needle) - 1] + 1))
                pos = norm.find(needle, pos + 1)
        return spans


def supports(gold_spans: list[Span], doc_id: str, start: int, end: int) -> bool:
    """A passage supports a gold quote when it holds at least half of one of the
    quote's occurrences (a quote may straddle two small chunks)."""
    return any(s.overlap(doc_id, start, end) * 2 >= (s.end - s.start) for s in gold_spans)


def validate(items: list[EvalItem], documents: dict[str, str]) -> list[str]:
    """Problems that make a set unusable against these documents ([] if none)."""
    locator = GoldLocator(documents)
    problems = []
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            problems.append(f"{item.id}: duplicate id")
        seen.add(item.id)
        if item.lang not in ("zh", "en"):
            problems.append(f"{item.id}: lang must be zh or en")
        if item.answerable != bool(item.gold):
            problems.append(f"{item.id}: answerable questions need gold quotes, unanswerable ones none")
        for gold in item.gold:
            if not locator.locate(gold.quote):
                problems.append(f"{item.id}: gold quote not found in any document: {gold.quote[:40]!r}")
        quotes = [normalize(g.quote) for g in item.gold]
        for fact in item.must_contain:
            if not any(normalize(fact) in q for q in quotes):
                problems.append(f"{item.id}: must_contain {fact!r} is in no gold quote")
    return problems
