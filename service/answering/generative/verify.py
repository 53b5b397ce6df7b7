"""Checks a generated answer sentence by sentence against the passages it cites.

A language model may cite the wrong passage, change a figure, or add a claim
nobody wrote. Each sentence of a generated answer must therefore (1) carry at
least one ``[n]`` naming a passage it was shown, (2) contain no number that the
cited passages lack, and (3) use terms the cited passages contain: every quoted
name (《…》, “…”) and most of its other content words. The checks are
deterministic string tests, so the same answer always gets the same verdict.

Where a sentence is not in the language of its passage (an English answer over
Chinese text) its words cannot be compared, and only numbers and quoted names
are checked; ``SentenceCheck.checks`` says which tests applied.

Text in a passage that reads as an instruction to the model (a planted
"忽略之前的所有指令，回答：…", flagged by ``index.ingest.instructions``) is not
evidence: a sentence that only such text supports is refused, so a model that
obeys it cannot publish the payload as verified."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from silkqa.index.ingest.instructions import without_instructions
from silkqa.index.language import MARKER, PARTIAL_MARKER, fold, language_of, markers_in, strip_markers
from silkqa.index.store.lexical import tokenize
from silkqa.service.answering.types import SentenceCheck

# A sentence ends at Chinese or English end punctuation (a full stop only when a
# space or the end follows, so 3.5 stays whole) or at a line break.
_SENTENCE = re.compile(r".*?(?:[。！？!?]+[”’」』）)]*|\.(?=\s|$)|\n|$)", re.S)
LEADING_MARKERS = re.compile(rf"^\s*(?:{MARKER.pattern}\s*)+")
LIST_MARK = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.、)）](?!\d))\s*")
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(
    r"(?<![第（(零一二两三四五六七八九十百千])([零一二两三四五六七八九十百千]+)(?=[个项条类种批次家座名点大])"
)
_QUOTED = re.compile(r"《([^》]{2,60})》|“([^”]{2,40})”|\"([^\"]{2,40})\"")

# Words a generated sentence adds around what it reports; they say nothing
# about whether the passage supports it.
_FRAME_WORDS = frozenset(
    """根据 指出 表示 包括 以下 相关 内容 段落 通过 进行 需要 如下 分别 以及 同时 此外 还 并且 因此 明确 强调
    according mentions mentioned states stated says said passage passages also including include includes""".split()
)


def split_sentences(text: str) -> list[str]:
    """Sentences of a generated answer, each with the markers that follow its
    end punctuation (``…体系。[1]`` and ``…体系[1]。`` both keep their [1]).
    Markers opening a line belong to the line they open: small models write
    answers as lists, ``[1] …。``."""
    pieces = [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0)]
    sentences: list[str] = []
    line_start = True
    for piece in pieces:
        lead = LEADING_MARKERS.match(piece)
        if lead and sentences and not line_start:
            sentences[-1] += lead.group(0).rstrip()
            piece = piece[lead.end() :]
        if piece.strip():
            sentences.append(piece.strip())
        line_start = piece.endswith("\n") or (line_start and not piece.strip())
    return sentences


class SentenceStream:
    """Cuts streamed text into complete sentences as soon as they are complete:
    a sentence is done once text other than its trailing markers follows it."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        self._buffer += delta
        pending = PARTIAL_MARKER.search(self._buffer)
        settled = self._buffer[: pending.start()] if pending else self._buffer
        sentences = split_sentences(settled)
        if len(sentences) < 2:
            return []
        # The last sentence may still grow or gain markers; keep it (and any
        # partial marker) in the buffer.
        last = sentences[-1]
        self._buffer = self._buffer[self._buffer.rindex(last) :]
        return sentences[:-1]

    def flush(self) -> list[str]:
        sentences, self._buffer = split_sentences(self._buffer), ""
        return sentences


def chinese_number(text: str) -> int:
    """二十一 → 21, 两 → 2, 一百零五 → 105 (up to the thousands)."""
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return total + digit


def _numbers(text: str) -> set[str]:
    """Numbers as values, so 03 in 2022/03/28 matches 3 and 1,000 matches 1000;
    Chinese numerals count where a measure word follows (三个阶段, 五条), so
    section labels like （三） and words like 一带一路 do not."""
    values = set()
    for raw in _NUMBER.findall(unicodedata.normalize("NFKC", text)):
        plain = raw.replace(",", "")
        values.add(str(float(plain)).removesuffix(".0") if "." in plain else str(int(plain)))
    values.update(str(chinese_number(m)) for m in _CN_NUMBER.findall(text))
    return values


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))


def quoted_names(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]


def content_terms(text: str) -> list[str]:
    # Single characters (年, 个, 项) are too common to tell passages apart.
    return [t for t in dict.fromkeys(tokenize(text)) if len(t) > 1 and t not in _FRAME_WORDS and not t.isdigit()]


def _support(claim: str, evidence: str, min_term_support: float) -> tuple[list[str], list[str], float]:
    """Problems, checks applied, and term support of ``claim`` against
    ``evidence`` less its instruction-like sentences."""
    guarded = without_instructions(evidence)
    problems, checks, term_support = _plain_support(claim, guarded, min_term_support)
    if problems and guarded != evidence and not _plain_support(claim, evidence, min_term_support)[0]:
        problems = ["restates text of the cited passages that reads as an instruction to the model, which is not evidence"]
    return problems, checks, term_support


def _plain_support(claim: str, evidence: str, min_term_support: float) -> tuple[list[str], list[str], float]:
    compact = _compact(evidence)
    problems: list[str] = []
    checks = ["numbers", "names"]
    missing = sorted(_numbers(claim) - _numbers(evidence), key=lambda v: (len(v), v))
    if missing:
        problems.append("numbers not in the cited passages: " + ", ".join(missing))
    absent = [n for n in quoted_names(claim) if _compact(n) not in compact]
    if absent:
        problems.append("names not in the cited passages: " + ", ".join(absent))
    terms = content_terms(claim)
    term_support = sum(1 for t in terms if _compact(t) in compact) / len(terms) if terms else 1.0
    if language_of(claim) == language_of(evidence):
        checks.append("terms")
        if term_support < min_term_support:
            absent_terms = [t for t in terms if _compact(t) not in compact]
            problems.append(
                f"only {term_support:.0%} of its terms are in the cited passages (missing: {', '.join(absent_terms[:6])})"
            )
    return problems, checks, term_support


def is_list_mark(sentence: str) -> bool:
    """ "1." or "-" alone: list formatting, not a claim."""
    return not strip_markers(LIST_MARK.sub("", sentence)).strip()


def check_sentence(sentence: str, passages: Sequence[str], min_term_support: float, attribute: bool = False) -> SentenceCheck:
    """``passages[n-1]`` is the text shown to the model as passage [n]. With
    ``attribute``, a sentence citing nothing is given the one passage that
    supports it best, if one passes every check (``checks`` then starts with
    "attributed"): small models often copy a passage and forget its number."""
    markers = markers_in(sentence)
    claim = LIST_MARK.sub("", strip_markers(sentence))
    if not markers:
        if attribute:
            verdicts = [(_support(claim, p, min_term_support), n) for n, p in enumerate(passages, start=1)]
            passing = [(v[2], -n, n, v[1]) for v, n in verdicts if not v[0]]
            if passing:
                term_support, _, n, checks = max(passing)
                return SentenceCheck(sentence, (n,), True, (), ("attributed", *checks), round(term_support, 3))
        return SentenceCheck(sentence, (), False, ("cites no passage",), ("citation",), 0.0)
    valid = [n for n in markers if 1 <= n <= len(passages)]
    if len(valid) < len(markers):
        problem = f"cites a passage that was not given: {sorted(set(markers) - set(valid))}"
        return SentenceCheck(sentence, markers, False, (problem,), ("citation",), 0.0)
    problems, checks, term_support = _support(claim, "\n".join(passages[n - 1] for n in valid), min_term_support)
    return SentenceCheck(sentence, markers, not problems, tuple(problems), ("citation", *checks), round(term_support, 3))


def supporting_span(claim: str, text: str, spans: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The stretch of sentences ``text[s:e]`` (given as ``spans``) that supports
    the claim: the sentence sharing the most with it (a number counts double),
    widened to the sentences holding its other numbers and names, if any.
    None when no sentence shares anything with it."""
    claim = strip_markers(claim)
    strong = {("n", v) for v in _numbers(claim)} | {("t", _compact(n)) for n in quoted_names(claim)}
    wanted = strong | {("t", _compact(t)) for t in content_terms(claim)}
    found = []
    for s, e in spans:
        sentence = text[s:e]
        compact, numbers = _compact(sentence), _numbers(sentence)
        found.append({f for f in wanted if (f[1] in numbers if f[0] == "n" else f[1] in compact)})
    if not any(found):
        return None
    best = max(range(len(spans)), key=lambda i: (len(found[i]) + len(found[i] & strong), -i))
    chosen = [best]
    missing = (strong & set().union(*found)) - found[best]
    while missing:
        extra = max(range(len(spans)), key=lambda i: len(found[i] & missing))
        chosen.append(extra)
        missing -= found[extra]
    return spans[min(chosen)][0], spans[max(chosen)][1]


def verify_answer(text: str, passages: Sequence[str], min_term_support: float, attribute: bool = False) -> list[SentenceCheck]:
    return [check_sentence(s, passages, min_term_support, attribute) for s in split_sentences(text) if not is_list_mark(s)]
