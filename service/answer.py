"""Extractive answers: the sentences that answer, each cited to its exact span.

No language model is involved. Sentences of the top passages are scored against
the question (dense similarity, weighted coverage of the question's words, the
passage's retrieval rank, and whether it holds the kind of fact asked for); the
best few become the answer, each followed by its marker ``[n]``. Every quote is
``document.text[start:end]``, so it can be checked and highlighted exactly.
When the best sentence is not convincing the service abstains and says so."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from index.build import UNIT_SENTENCE, BuiltIndex
from index.lexical import fold
from service.retrieval import Hit, Query, Retriever

# Sentences shorter than this are headings or fragments: the answer takes them
# together with the sentence that follows.
_SHORT_SENTENCE = 20
_NUMBER_QUESTION = re.compile(r"多少|几[个项次家年名座条]|数量|规模|比例|占比|百分之|哪一?年|何时|什么时候|哪天|日期|how (many|much)|percent|when|what year|date", re.I)
_HAS_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class AnswerOptions:
    abstain_threshold_zh: float = 0.35
    abstain_threshold_en: float = 0.30
    max_sentences: int = 3
    max_chars: int = 400
    candidate_passages: int = 5

    def threshold(self, lang: str) -> float:
        return self.abstain_threshold_zh if lang == "zh" else self.abstain_threshold_en


@dataclass(frozen=True)
class Citation:
    marker: int
    chunk_id: str
    doc_id: str
    title: str
    section: tuple[str, ...]
    quote: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int
    end: int
    score: float  # ranking score
    evidence: float  # how well the sentence itself matches the question


@dataclass
class Answer:
    text: str
    abstained: bool
    citations: list[Citation]
    passages: list[Hit]
    confidence: float
    lang: str
    mode: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)


def coverage(tokens: tuple[str, ...], text: str, idf, unseen_weight: float) -> float:
    """IDF-weighted share of the question's words that ``text`` contains.

    A word that occurs nowhere in the corpus weighs ``unseen_weight`` (as much as
    the rarest word): it is usually the very thing the documents do not cover."""
    if not tokens:
        return 0.0
    folded = fold(text)
    weights = {t: idf(t) or unseen_weight for t in set(tokens)}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in folded) / total


def _bigrams(text: str) -> set[str]:
    compact = re.sub(r"\s+", "", text)
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def near_duplicate(a: str, b: str, threshold: float = 0.6) -> bool:
    ga, gb = _bigrams(a), _bigrams(b)
    if not ga or not gb:
        return a == b
    return len(ga & gb) / min(len(ga), len(gb)) >= threshold


class AnswerComposer:
    def __init__(self, index: BuiltIndex, retriever: Retriever, options: AnswerOptions = AnswerOptions()):
        self.index = index
        self.retriever = retriever
        self.options = options
        # unit id of every sentence span, to look up its similarity
        self._unit_of_span = {
            (int(index.units.chunk[u]), int(index.units.start[u])): u
            for u in np.flatnonzero(index.units.kind == UNIT_SENTENCE)
        }

    def candidates(self, query: Query, hits: list[Hit]) -> list[Candidate]:
        pool = hits[: self.options.candidate_passages]
        spans: list[tuple[Hit, int, int, list[int]]] = []
        for hit in pool:
            sentences = hit.chunk.sentences
            for i, (s, e) in enumerate(sentences):
                units = [self._unit_of_span[(hit.index, s)]]
                if e - s < _SHORT_SENTENCE and i + 1 < len(sentences):
                    e = sentences[i + 1][1]
                    units.append(self._unit_of_span[(hit.index, sentences[i + 1][0])])
                spans.append((hit, s, e, units))
        if not spans:
            return []
        flat_units = np.array([u for *_, units in spans for u in units])
        sims = dict(zip(flat_units.tolist(), self.retriever.unit_similarities(query, flat_units).tolist()))
        wants_number = bool(_NUMBER_QUESTION.search(query.text))
        lexical_index = self.index.lexical
        top_score = max(h.score for h in pool)
        out = []
        for hit, s, e, units in spans:
            text = self.index.documents[hit.chunk.doc_id].text[s:e]
            dense = max(sims[u] for u in units)
            lexical = coverage(query.tokens, text, lexical_index.idf, lexical_index.max_idf)
            # Evidence that this sentence answers: what abstention is judged on.
            if query.lang == "zh":
                evidence = 0.55 * lexical + 0.45 * dense
            else:
                evidence = 0.15 * lexical + 0.85 * dense
            if wants_number and _HAS_NUMBER.search(text):
                evidence += 0.05
            # The passage's retrieval rank only orders sentences of similar evidence.
            prior = hit.score / top_score if top_score else 0.0
            out.append(Candidate(hit, s, e, float(0.8 * evidence + 0.2 * prior), float(evidence)))
        return sorted(out, key=lambda c: -c.score)

    def select(self, candidates: list[Candidate], threshold: float) -> list[Candidate]:
        if not candidates:
            return []
        best = candidates[0].score
        chosen: list[Candidate] = []
        used = 0
        for cand in candidates:
            if len(chosen) >= self.options.max_sentences:
                break
            if cand.evidence < threshold or cand.score < 0.8 * best:
                continue
            text = self._text(cand)
            overlaps = any(
                c.hit.chunk.doc_id == cand.hit.chunk.doc_id and c.start < cand.end and cand.start < c.end for c in chosen
            )
            if overlaps or any(near_duplicate(text, self._text(c)) for c in chosen):
                continue
            if chosen and used + len(text) > self.options.max_chars:
                continue
            chosen.append(cand)
            used += len(text)
        return chosen

    def extend(self, chosen: list[Candidate], candidates: list[Candidate], threshold: float) -> list[Candidate]:
        """Let a quote run on through the following sentences of its paragraph
        while they still match the question: requirements and lists often
        continue past the sentence that matched best."""
        evidence = {(c.hit.index, c.start): c.evidence for c in candidates}
        budget = self.options.max_chars - sum(c.end - c.start for c in chosen)
        extended = []
        for cand in chosen:
            text = self.index.documents[cand.hit.chunk.doc_id].text
            end = cand.end
            for s, e in cand.hit.chunk.sentences:
                if s < end or "\n" in text[end:s]:
                    continue
                taken = any(c is not cand and c.hit.index == cand.hit.index and c.start == s for c in chosen)
                if taken or e - end > budget or evidence.get((cand.hit.index, s), 0.0) < 0.5 * threshold:
                    break
                budget -= e - end
                end = e
            extended.append(Candidate(cand.hit, cand.start, end, cand.score, cand.evidence))
        return extended

    def _text(self, cand: Candidate) -> str:
        return self.index.documents[cand.hit.chunk.doc_id].text[cand.start : cand.end]

    def compose(self, query: Query, hits: list[Hit]) -> Answer:
        candidates = self.candidates(query, hits)
        confidence = max((c.evidence for c in candidates), default=0.0)
        threshold = self.options.threshold(query.lang)
        chosen = self.extend(self.select(candidates, threshold), candidates, threshold)
        if not chosen:
            return Answer(abstention_text(query.lang), True, [], hits, confidence, query.lang)
        citations = self._citations(chosen)
        return Answer(render(citations, query.lang), False, citations, hits, confidence, query.lang)

    def _citations(self, chosen: list[Candidate]) -> list[Citation]:
        # Best document first; within a document the best passage first, and
        # sentences of one passage in reading order.
        rank = {id(c): i for i, c in enumerate(sorted(chosen, key=lambda c: -c.score))}
        doc_rank = {}
        chunk_rank = {}
        for cand in sorted(chosen, key=lambda c: rank[id(c)]):
            doc_rank.setdefault(cand.hit.chunk.doc_id, len(doc_rank))
            chunk_rank.setdefault(cand.hit.index, len(chunk_rank))
        ordered = sorted(chosen, key=lambda c: (doc_rank[c.hit.chunk.doc_id], chunk_rank[c.hit.index], c.start))
        citations = []
        for marker, cand in enumerate(ordered, start=1):
            doc = self.index.documents[cand.hit.chunk.doc_id]
            citations.append(
                Citation(
                    marker=marker,
                    chunk_id=cand.hit.chunk.chunk_id,
                    doc_id=doc.meta.doc_id,
                    title=doc.meta.title,
                    section=cand.hit.chunk.section,
                    quote=doc.text[cand.start : cand.end],
                    start=cand.start,
                    end=cand.end,
                    score=round(cand.score, 4),
                )
            )
        return citations


def abstention_text(lang: str) -> str:
    if lang == "zh":
        return "所提供的文档中没有找到能够回答这个问题的内容。下面列出最接近的段落，仅供参考。"
    return "The documents do not cover this question. The closest passages are listed below for reference only."


def render(citations: list[Citation], lang: str) -> str:
    """One lead-in per document naming the source, then the cited sentences."""
    parts = []
    for doc_id in dict.fromkeys(c.doc_id for c in citations):
        group = [c for c in citations if c.doc_id == doc_id]
        sections = {c.section for c in group}
        section = group[0].section[-1] if len(sections) == 1 and group[0].section else ""
        if lang == "zh":
            where = f"“{section}”部分" if section else ""
            lead = f"根据《{group[0].title}》{where}："
        else:
            where = f", section “{section}”" if section else ""
            lead = f"According to 《{group[0].title}》{where}: "
        parts.append(lead + " ".join(f"{c.quote}[{c.marker}]" for c in group))
    return "\n".join(parts)
