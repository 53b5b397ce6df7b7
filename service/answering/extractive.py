"""Extractive answers: the sentences that answer, each cited to its exact span.

No language model is involved. Sentences of the top passages are scored against
the question (dense similarity, weighted coverage of the question's words, the
passage's retrieval rank, and whether it holds the kind of fact asked for); the
best few become the answer, each followed by its marker ``[n]``. Every quote is
``document.text[start:end]``, so it can be checked and highlighted exactly.
When the best sentence is not convincing the service abstains and says so."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from silkqa.index.ingest.structure import format_path, inherited_cells, row_group
from silkqa.index.language import fold
from silkqa.service.answering.quantities import asked_quantities, asks_figure, states
from silkqa.service.answering.types import Answer, AnswerOptions, Citation
from silkqa.service.retrieval.retriever import Retriever
from silkqa.service.retrieval.types import Hit, Query

# Sentences shorter than this are headings or fragments: the answer takes them
# together with the sentence that follows.
_SHORT_SENTENCE = 20
_HAS_NUMBER = re.compile(r"\d")
# Questions that ask for several things (a list, each of several parts) may be
# answered by several sentences; others by their single best one.
_WANTS_SEVERAL = re.compile(
    r"哪些|哪几|分别|各[有是要为]|都有|有几[条个项]|一共几|几条|\bwhich\b.*\bare\b|\bwhat are\b|\blist\b|[？?].+[？?]", re.I
)


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int
    end: int
    score: float  # ranking score
    evidence: float  # how well the sentence itself matches the question
    states_asked: bool = True  # states the kind of quantity the question asks for


def coverage(tokens: tuple[str, ...], text: str, idf: Callable[[str], float], unseen_weight: float) -> float:
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
    """Composes the answer to one query from one snapshot's retriever; cheap
    to make, so each request makes its own."""

    def __init__(self, retriever: Retriever, options: AnswerOptions):
        self.index = retriever.index
        self.retriever = retriever
        self.options = options

    def candidates(self, query: Query, hits: list[Hit]) -> list[Candidate]:
        pool = hits[: self.options.candidate_passages]
        seen = {h.chunk.doc_id for h in pool}
        for hit in hits[self.options.candidate_passages :]:
            # Another document's best passage stays in play even when lower: it
            # may give that document's version of a date or figure.
            if hit.chunk.doc_id not in seen:
                pool.append(hit)
                seen.add(hit.chunk.doc_id)
        spans: list[tuple[Hit, int, int, list[int]]] = []
        for hit in pool:
            sentences = hit.chunk.sentences
            unit_ids = self.index.units.sentence_units(hit.index).tolist()
            for i, (s, e) in enumerate(sentences):
                units = [unit_ids[i]]
                if e - s < _SHORT_SENTENCE and i + 1 < len(sentences):
                    e = sentences[i + 1][1]
                    units.append(unit_ids[i + 1])
                spans.append((hit, s, e, units))
        if not spans:
            return []
        flat_units = np.array([u for *_, units in spans for u in units])
        sims = dict(zip(flat_units.tolist(), self.retriever.unit_similarities(query, flat_units).tolist(), strict=True))
        wants_number = asks_figure(query.text)
        asked = asked_quantities(query.text)
        lexical_index = self.index.lexical
        top_score = max(h.score for h in pool)
        out = []
        for hit, s, e, units in spans:
            text = self.index.documents[hit.chunk.doc_id].text[s:e]
            # A sentence is read with its section title ("（二）黑山莫祖拉风电项目"):
            # "项目每年提供清洁电力…" is about the project its heading names.
            in_context = " ".join((format_path(hit.chunk.section), hit.chunk.context, text))
            dense = max(sims[u] for u in units)
            lexical = coverage(query.tokens, in_context, lexical_index.idf, lexical_index.max_idf)
            prior = hit.score / top_score if top_score else 0.0
            number = 1.0 if wants_number and _HAS_NUMBER.search(text) else 0.0
            states_asked = all(states(kind, text) for kind in asked)
            # Weights chosen on the dev set (eval/RESULTS.md): for Chinese the
            # words a sentence shares with the question and its passage's rank
            # decide; for English (Chinese evidence) the cross-lingual similarity.
            if query.lang == "zh":
                evidence = 0.55 * lexical + 0.45 * dense
                score = 0.45 * lexical + 0.1 * dense + 0.45 * prior + 0.05 * number
            else:
                evidence = 0.15 * lexical + 0.85 * dense
                score = 0.15 * lexical + 0.6 * dense + 0.25 * prior + 0.1 * number
            if asked and states_asked:
                score += 0.1
            out.append(Candidate(hit, s, e, float(score), float(evidence), states_asked))
        return sorted(out, key=lambda c: -c.score)

    def select(
        self, candidates: list[Candidate], threshold: float, several: bool = True, figures: bool = False
    ) -> list[Candidate]:
        if not candidates:
            return []
        best = candidates[0].score
        chosen: list[Candidate] = []
        used = 0
        limit = self.options.max_sentences if several else 1
        for cand in candidates:
            if len(chosen) >= limit:
                break
            if cand.evidence < threshold or cand.score < self.options.companion_ratio * best:
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
        # Dates and figures are where documents disagree: show each document's.
        return chosen + (self._other_document(candidates, chosen, threshold, used) if figures else [])

    def _other_document(
        self, candidates: list[Candidate], chosen: list[Candidate], threshold: float, used: int
    ) -> list[Candidate]:
        ratio = self.options.second_document_ratio
        if not chosen or not ratio:
            return []
        docs = {c.hit.chunk.doc_id for c in chosen}
        floor = ratio * max(c.score for c in chosen)
        for cand in candidates:
            if cand.hit.chunk.doc_id in docs or cand.score < floor or cand.evidence < threshold:
                continue
            text = self._text(cand)
            if used + len(text) > self.options.max_chars or any(near_duplicate(text, self._text(c)) for c in chosen):
                return []
            return [cand]
        return []

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

    def _whole_table_group(self, cand: Candidate) -> Candidate:
        """A list question answered by a table row is answered by its group:
        "贸易畅通类有哪些项目" wants every row of that category."""
        text = self.index.documents[cand.hit.chunk.doc_id].text
        if "\t" not in text[cand.start : cand.end]:
            return cand
        start, end = row_group(text, cand.start)
        return Candidate(cand.hit, min(start, cand.start), max(end, cand.end), cand.score, cand.evidence)

    def _text(self, cand: Candidate) -> str:
        return self.index.documents[cand.hit.chunk.doc_id].text[cand.start : cand.end]

    def compose(self, query: Query, hits: list[Hit]) -> Answer:
        candidates = self.candidates(query, hits)
        if asked_quantities(query.text):
            # Only sentences that state the asked quantity can answer.
            candidates = [c for c in candidates if c.states_asked]
        confidence = max((c.evidence for c in candidates), default=0.0)
        threshold = self.options.threshold(query.lang)
        several = bool(_WANTS_SEVERAL.search(query.text))
        figures = asks_figure(query.text)
        chosen = self.extend(self.select(candidates, threshold, several, figures), candidates, threshold)
        if several:
            chosen = [self._whole_table_group(c) for c in chosen]
        if not chosen:
            return Answer(abstention_text(query.lang), True, [], hits, confidence, query.lang)
        citations = self._citations(chosen)
        return Answer(render(citations, query.lang), False, citations, hits, confidence, query.lang)

    def _citations(self, chosen: list[Candidate]) -> list[Citation]:
        # Best document first; within a document the best passage first, and
        # sentences of one passage in reading order.
        rank = {id(c): i for i, c in enumerate(sorted(chosen, key=lambda c: -c.score))}
        doc_rank: dict[str, int] = {}
        chunk_rank: dict[int, int] = {}
        for cand in sorted(chosen, key=lambda c: rank[id(c)]):
            doc_rank.setdefault(cand.hit.chunk.doc_id, len(doc_rank))
            chunk_rank.setdefault(cand.hit.index, len(chunk_rank))
        ordered = sorted(chosen, key=lambda c: (doc_rank[c.hit.chunk.doc_id], chunk_rank[c.hit.index], c.start))
        citations: list[Citation] = []

        def cite(cand: Candidate, start: int, end: int, label: str | None = None) -> None:
            doc = self.index.documents[cand.hit.chunk.doc_id]
            citations.append(
                Citation(
                    marker=len(citations) + 1,
                    chunk_id=cand.hit.chunk.chunk_id,
                    doc_id=doc.meta.doc_id,
                    title=doc.meta.title,
                    section=cand.hit.chunk.section,
                    quote=doc.text[start:end],
                    start=start,
                    end=end,
                    score=round(cand.score, 4),
                    label=label,
                )
            )

        for cand in ordered:
            cite(cand, cand.start, cand.end)
            text = self.index.documents[cand.hit.chunk.doc_id].text
            if "\t" in text[cand.start : cand.end]:
                # A row whose category cell is blank: cite the cell it inherits.
                for header, (s, e) in inherited_cells(text, cand.start):
                    if not cand.start <= s < cand.end:
                        cite(cand, s, e, label=header)
        return citations


def _readable(quote: str) -> str:
    """A quote as the answer shows it: table cells and rows read as a list.
    The citation keeps the exact text."""
    return quote.replace("\t", " ").replace("\n", "；") if "\t" in quote else quote


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
        body = ""
        for c in group:
            if c.label:
                body += f"（{c.label}：{c.quote}[{c.marker}]）"
            else:
                body += (" " if body else "") + f"{_readable(c.quote)}[{c.marker}]"
        parts.append(lead + body)
    return "\n".join(parts)
