"""Extractive answers: the sentences that answer, each cited to its exact span.

No language model is involved. Sentences of the top passages are scored against
the question (dense similarity, weighted coverage of the question's words, the
passage's retrieval rank, and whether it holds the kind of fact asked for), and
only those that pass the answerability check (``answering.answerability``:
every constraint present, a span of the expected type bound to the asked
attribute) may answer. Then the answer takes the shape the question asks for:

* a list question gets every item of the section it is about (the heading
  tree knows them), each cited;
* a question about a section ("…有哪些要求", "主要目标是什么", "为什么…") gets
  that section's sentences, whole;
* a question that names documents gets its answer from them, one part per
  document when it compares;
* a figure or a date gets its sentence, plus another document's version
  where the documents disagree.

Every quote is ``document.text[start:end]`` and a whole sentence, so it can be
checked and highlighted exactly. When nothing passes, the answer abstains and
says what the documents do and do not contain."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from silkqa.index.ingest.structure import format_path, inherited_cells, row_group
from silkqa.index.ingest.types import Chunk
from silkqa.index.language import compact, fold, language_of
from silkqa.index.store.types import IndexedDocument
from silkqa.service.answering import sections
from silkqa.service.answering.answerability import Gap, Judgement, Missing, detail_word, judge, metadata_word, present
from silkqa.service.answering.metadata import manifest_value, metadata_evidence
from silkqa.service.answering.quantities import asks_figure
from silkqa.service.answering.question import asks_plural
from silkqa.service.answering.render import abstention_reason, partial_note, render
from silkqa.service.answering.types import (
    TYPED_ANSWERS,
    Abstention,
    Answer,
    AnswerOptions,
    AnswerType,
    Citation,
    ConstraintKind,
    Coverage,
    CoverageStatus,
    Part,
    QuestionAnalysis,
)
from silkqa.service.retrieval.retriever import Retriever
from silkqa.service.retrieval.types import Hit, Query

# Sentences shorter than this are headings or fragments: the candidate takes
# them together with the sentence that follows.
_SHORT_SENTENCE = 20
_HAS_NUMBER = re.compile(r"\d")
# Judged per question: the best-scored sentences (more cost time, not quality).
_JUDGED = 60
# How far below the abstention threshold a sentence holding the question's
# names and the typed detail asked for may stand (chosen on the dev set).
_ANCHORED = 0.75
# Most items a list answer enumerates.
_MAX_ITEMS = 15
# Most sentences of a section body quoted whole.
_WHOLE_BODY = 3
# The share of the question's word weight (idf) a numbered part's titles must hold.
_PART_COVERAGE = 1 / 3
# Sentences after the best one read for the asks it leaves unanswered.
_NEIGHBOURS = 3
# How well a following sentence must match, relative to the one it extends.
_EXTEND_RATIO = 0.8
# Chunks read for the best matches of a document's title (a cheap top-k: the
# document's own chunks match too, titles being indexed with the text).
_MENTIONING_CHUNKS = 64
# Above this many chunks that search is skipped: a title's words are common
# in a library of many related documents, and its top-k cannot be pruned
# (seconds at 1M chunks); records are then looked for among the retrieved passages.
_MENTIONING_LIBRARY = 50_000


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int
    end: int
    score: float  # ranking score
    evidence: float  # how well the sentence itself matches the question


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


def _about_subsection(analysis: QuestionAnalysis, path: tuple[str, ...], section: tuple[str, ...]) -> bool:
    """Whether the question names what ``section`` or a section of ``path``
    below it is about: a constraint in its title, or a word of the question
    in a subsection's title and not in the section's."""
    if any(c.text in section[-1] for c in analysis.constraints):
        return True
    words = [w for w in analysis.focus if len(w) >= 2 and w not in section[-1]]
    return any(w in title for title in path[len(section) :] for w in words)


def without_repeats(parts: list[Part]) -> list[Part]:
    """Each sentence quoted once: a part run on through its paragraph may reach
    a sentence another part quotes (the later quote is dropped, and a part left
    with nothing)."""
    quoted: list[tuple[str, int, int]] = []
    out = []
    for part in parts:
        doc_id = part.hit.chunk.doc_id
        spans = tuple((s, e) for s, e in part.spans if not any(d == doc_id and s < qe and qs < e for d, qs, qe in quoted))
        quoted.extend((doc_id, s, e) for s, e in spans)
        if spans:
            out.append(part if spans == part.spans else replace(part, spans=spans))
    return out


class AnswerComposer:
    """Composes the answer to one query from one snapshot's retriever; cheap
    to make, so each request makes its own."""

    def __init__(self, retriever: Retriever, options: AnswerOptions):
        self.index = retriever.index
        self.retriever = retriever
        self.options = options
        # Set per question by ``compose``: each scored sentence's evidence, and
        # the least a sentence needs to extend a quote.
        self._evidence: dict[tuple[str, int], float] = {}
        self._floor = 0.0

    # --- scoring ------------------------------------------------------------------

    def candidates(self, query: Query, hits: list[Hit]) -> list[Candidate]:
        pool = hits[: self.options.candidate_passages]
        seen = {h.chunk.doc_id for h in pool}
        for hit in hits[self.options.candidate_passages :]:
            # Another document's best passage stays in play even when lower: it
            # may give that document's version of a date or figure, or be the
            # document the question names.
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
        lexical_index = self.index.lexical
        top_score = max(h.score for h in pool)
        out = []
        for hit, s, e, units in spans:
            text = self._doc(hit).text[s:e]
            # A sentence is read with its section title ("（二）黑山莫祖拉风电项目"):
            # "项目每年提供清洁电力…" is about the project its heading names.
            in_context = " ".join((format_path(hit.chunk.section), hit.chunk.context, text))
            dense = max(sims[u] for u in units)
            lexical = coverage(query.tokens, in_context, lexical_index.idf, lexical_index.max_idf)
            prior = hit.score / top_score if top_score else 0.0
            number = 1.0 if wants_number and _HAS_NUMBER.search(text) else 0.0
            # Weights chosen on the dev set (eval/RESULTS.md): for Chinese the
            # words a sentence shares with the question and its passage's rank
            # decide; for English (Chinese evidence) the cross-lingual similarity.
            if query.lang == "zh":
                evidence = 0.55 * lexical + 0.45 * dense
                score = 0.45 * lexical + 0.1 * dense + 0.45 * prior + 0.05 * number
            else:
                evidence = 0.15 * lexical + 0.85 * dense
                score = 0.15 * lexical + 0.6 * dense + 0.25 * prior + 0.1 * number
            out.append(Candidate(hit, s, e, float(score), float(evidence)))
        return sorted(out, key=lambda c: -c.score)

    def judge(self, analysis: QuestionAnalysis, cand: Candidate) -> Judgement:
        doc = self._doc(cand.hit)
        if sections.is_heading(doc.text[cand.start : cand.end], cand.hit.chunk.section):
            # A heading names a topic; it answers nothing ("（三）阿根廷胡胡伊省光伏发电站项目").
            return Judgement((), frozenset(), (Missing(detail_word(analysis.lang, analysis.answer_type), Gap.DETAIL),))
        # The sentence before, in its paragraph, names what "班列平均碳排放量…" is about.
        before = sections.preceding(doc.text, cand.start)
        context = " ".join((doc.meta.title, format_path(cand.hit.chunk.section), cand.hit.chunk.context, before))
        return judge(analysis, doc.text[cand.start : cand.end], context)

    # --- composing ----------------------------------------------------------------

    def compose(self, query: Query, analysis: QuestionAnalysis, hits: list[Hit]) -> Answer:
        candidates = self.candidates(query, hits)
        confidence = max((c.evidence for c in candidates), default=0.0)
        threshold = self.options.threshold(query.lang)
        self._evidence = {(c.hit.chunk.doc_id, c.start): c.evidence for c in candidates}
        self._floor = threshold
        # What names a section: the question, and for an English one its Chinese words too
        # ("safeguard measures" → 保障, 措施 names "十、保障措施"), kept apart so no pair spans two.
        self._asked = analysis.text if analysis.lang == "zh" else "，".join(query.keywords.split())
        relevant = [c for c in candidates[:_JUDGED] if c.evidence >= threshold]
        # The best-scored sentences are judged even when weak: an abstention
        # quotes the nearest one and says what it lacks.
        considered = relevant or candidates[:5]
        verdicts = {id(c): self.judge(analysis, c) for c in considered}
        passing = [c for c in relevant if verdicts[id(c)].ok]
        contradicting = [c for c in relevant if any(m.gap is Gap.CONTRADICTED for m in verdicts[id(c)].missing)]
        if contradicting:
            # The documents say it was done ("项目积极开展环境影响评价工作"): whatever
            # else the question asks rests on a premise they contradict.
            return self._abstain(analysis, contradicting, verdicts, hits, confidence)
        if not passing:
            passing = self._anchored(analysis, candidates, threshold, verdicts)
        named = analysis.documents
        if analysis.metadata and named:
            parts = self._metadata_parts(analysis, hits)
            if parts:
                return self._answer(analysis, parts, hits, confidence, self._coverage(analysis, parts))
            # Neither the manifest nor any text states it: a sentence that
            # merely mentions a 部门 does not say who issued the document.
            asked = [Missing(metadata_word(analysis.lang, f), Gap.DETAIL) for f in analysis.metadata]
            return self._abstain(analysis, [], {}, hits, confidence, missing=asked)
        if analysis.part and len(named) == 1 and analysis.answer_type not in TYPED_ANSWERS:
            part = self._numbered_part(analysis, next(iter(named)))
            if part is not None:
                return self._answer(analysis, [part], hits, confidence, self._coverage(analysis, [part]))
        if named and not analysis.compare:
            in_named = [c for c in passing if c.hit.chunk.doc_id in named]
            if not in_named:
                return self._abstain(analysis, considered, verdicts, hits, confidence, elsewhere=passing)
            passing = in_named
        if not passing:
            return self._abstain(analysis, considered, verdicts, hits, confidence)
        if analysis.compare and len(named) >= 2:
            ranked = sorted(named, key=lambda d: self._rank(d, passing))
            parts = [part for doc_id in ranked if (part := self._part_for(doc_id, passing, verdicts, analysis))]
            return self._answer(analysis, parts, hits, confidence, self._coverage(analysis, parts))
        parts, answered = self._parts(analysis, passing, verdicts)
        coverage = self._coverage(analysis, parts, answered, passing, verdicts)
        return self._answer(analysis, parts, hits, confidence, coverage)

    def _anchored(
        self, analysis: QuestionAnalysis, candidates: list[Candidate], threshold: float, verdicts: dict[int, Judgement]
    ) -> list[Candidate]:
        """Sentences a little below the threshold that hold what the question
        names (a name, a quoted title, a year, or the named document) and
        give the date or figure asked for: explicit evidence the similarity
        underrates, as it does for English questions over Chinese text."""
        names = [c for c in analysis.constraints if c.in_library and c.kind is not ConstraintKind.TERM]
        # Only the checks a sentence cannot pass by chance: a date, a figure.
        typed = {i for i, ask in enumerate(analysis.asks) if ask.answer_type in (AnswerType.DATE, AnswerType.FIGURE)}
        # A document the question names bounds the search as a name does.
        named_only = bool(analysis.documents) and not names
        if not (names or analysis.documents) or not (typed or named_only):
            return []
        out = []
        for cand in candidates[:_JUDGED]:
            if not _ANCHORED * threshold <= cand.evidence < threshold:
                continue
            if named_only and cand.hit.chunk.doc_id not in analysis.documents:
                continue
            verdict = verdicts.setdefault(id(cand), self.judge(analysis, cand))
            if verdict.ok and (verdict.answers & typed or (named_only and not typed)):
                out.append(cand)
        return out

    def _numbered_part(self, analysis: QuestionAnalysis, doc_id: str) -> Part | None:
        """The part of ``doc_id`` the question names by number ("408号文第四部分的保障措施
        分哪几块"): its items, or its body when it has none; None when the part is not about
        what the question asks (its titles hold too little of the question's words)."""
        text = self.index.documents[doc_id].text
        section = sections.numbered(text, analysis.part or "")
        if section is None:
            return None
        children = sections.items(text, section)
        titles = section[-1] + "".join(text[s:e] for s, e in (item.heading for item in children))
        words = [w for w in (*analysis.focus, *analysis.attribute) if len(w) >= 2]
        weights = {w: self.index.lexical.idf(w) for w in words}
        held = sum(weight for w, weight in weights.items() if w in titles)
        # Rare words weigh more: "煤电项目" is not about "完善境外项目…保障" for 项目.
        if weights and held < _PART_COVERAGE * sum(weights.values()):
            return None
        spans = [item.heading for item in children[:_MAX_ITEMS]] or self._within_budget(sections.body(text, section))
        key = self.retriever.chunk_at(doc_id, spans[0][0]) if spans else None
        if key is None:
            return None
        return Part(self.retriever.hit(key, 0.0, 0.0, 0.0), tuple(spans), listed=bool(children))

    def _rank(self, doc_id: str, passing: list[Candidate]) -> int:
        return next((i for i, c in enumerate(passing) if c.hit.chunk.doc_id == doc_id), len(passing))

    def _part_for(
        self, doc_id: str, passing: list[Candidate], verdicts: dict[int, Judgement], analysis: QuestionAnalysis
    ) -> Part | None:
        mine = [c for c in passing if c.hit.chunk.doc_id == doc_id]
        if not mine:
            return None
        parts, _ = self._parts(analysis, mine, verdicts, other_documents=False)
        return parts[0] if parts else None

    def _parts(
        self, analysis: QuestionAnalysis, passing: list[Candidate], verdicts: dict[int, Judgement], other_documents: bool = True
    ) -> tuple[list[Part], set[int]]:
        """The answer's parts and the asks they answer."""
        best = passing[0]
        every_ask = set(range(len(analysis.asks)))
        doc = self._doc(best.hit)
        # A head noun alone is weak evidence of a section: enough when the question asks for items.
        section = sections.anchor(best.hit.chunk.section, self._asked, by_head=analysis.several)
        # A section the question names by its topic ("基本原则", "主要目标"), not
        # by the name of what it or a section in it is about ("（一）蒙内铁路": "加纳特马
        # 码头项目取得了什么成效" is not about all of "一、发展成效"), and not a table.
        if (
            section is not None
            and analysis.answer_type not in TYPED_ANSWERS
            and not sections.has_table(doc.text, section)
            and not _about_subsection(analysis, best.hit.chunk.section, section)
        ):
            children = sections.items(doc.text, section)
            wants_items = (
                analysis.several or analysis.answer_type in (AnswerType.REASON, AnswerType.LIST) or asks_plural(analysis.text)
            )
            if children and wants_items:
                return [Part(best.hit, tuple(item.heading for item in children[:_MAX_ITEMS]), listed=True)], every_ask
            spans = sections.body(doc.text, section)
            # A short body is the answer whole; a long one is read sentence by sentence.
            if spans and len(spans) <= _WHOLE_BODY:
                return [Part(best.hit, tuple(self._within_budget(spans)))], every_ask
        grouped = self._named_row_group(analysis, passing) if analysis.several else None
        if grouped is not None:
            return [self._sentences(grouped, extend=False, group=True)], every_ask
        chosen = self._select(analysis, passing, verdicts)
        answered = {i for c in chosen for i in verdicts[id(c)].answers}
        if chosen and len(answered) < len(analysis.asks):
            for near in self._next_answers(analysis, chosen[0], every_ask - answered, verdicts):
                chosen.append(near)
                answered |= verdicts[id(near)].answers
        explain = analysis.answer_type not in TYPED_ANSWERS
        parts = [self._sentences(c, extend=explain, group=analysis.several) for c in chosen]
        if other_documents and analysis.answer_type in (AnswerType.FIGURE, AnswerType.DATE):
            # Dates and figures are where documents disagree: show each document's.
            other = self._other_document(passing, chosen)
            if other is not None:
                parts.append(self._sentences(other, extend=False, group=False))
        return without_repeats(parts), answered

    def _next_answers(
        self, analysis: QuestionAnalysis, cand: Candidate, unanswered: set[int], verdicts: dict[int, Judgement]
    ) -> list[Candidate]:
        """The sentences just after ``cand`` in its paragraph that answer what
        it leaves unanswered: "…业务范围覆盖 60多个共建国家。" is followed by
        "…设立…15个绿色产业联合创新中心", the second ask's answer, in a chunk
        retrieval may not have ranked."""
        doc_id = cand.hit.chunk.doc_id
        text = self._doc(cand.hit).text
        found: list[Candidate] = []
        left = set(unanswered)
        last = sections.sentence_at(text, max(cand.end - 1, cand.start))
        for s, e in sections.following(text, (cand.start, last[1]))[:_NEIGHBOURS]:
            key = self.retriever.chunk_at(doc_id, s)
            if key is None:
                break
            hit = cand.hit if key == cand.hit.index else self.retriever.hit(key, cand.hit.score, 0.0, 0.0)
            near = Candidate(hit, s, e, cand.score, self._evidence_in(doc_id, s, e))
            verdict = self.judge(analysis, near)
            if not verdict.missing and verdict.answers & left:
                verdicts[id(near)] = verdict
                found.append(near)
                left -= verdict.answers
            if not left:
                break
        return found

    def _named_row_group(self, analysis: QuestionAnalysis, passing: list[Candidate]) -> Candidate | None:
        """A table row of the group a list question names by its label
        ("贸易畅通类都有哪些项目" lists the rows under 贸易畅通): its rows are
        the answer, not a sentence that counts them ("贸易畅通类 3 个")."""
        asked = compact(analysis.text)
        for cand in passing:
            text = self._doc(cand.hit).text
            if "\t" not in text[cand.start : cand.end]:
                continue
            start, end = row_group(text, cand.start)
            label = compact(text[start:end].split("\t", 1)[0])
            if len(label) >= 2 and label in asked:
                return cand
        return None

    def _select(self, analysis: QuestionAnalysis, passing: list[Candidate], verdicts: dict[int, Judgement]) -> list[Candidate]:
        """The best sentence, companions as good for a list, and for each ask
        the best sentence left that answers it."""
        best = passing[0].score
        limit = self.options.max_sentences if analysis.several else 1
        chosen: list[Candidate] = []
        answered: set[int] = set()
        used = 0
        held: set[str] = set()
        for cand in passing:
            verdict = verdicts[id(cand)]
            new_ask = bool(verdict.answers - answered) or bool(verdict.covers - held)
            if len(chosen) >= limit and not new_ask:
                continue
            if chosen and cand.score < self.options.companion_ratio * best and not new_ask:
                continue
            text = self._text(cand)
            overlaps = any(
                c.hit.chunk.doc_id == cand.hit.chunk.doc_id and c.start < cand.end and cand.start < c.end for c in chosen
            )
            # Alike sentences about another of the names asked for ("…中非环境合作中心在北京成立"
            # beside "…澜沧江-湄公河环境合作中心在北京成立") are two answers, not one twice.
            if overlaps or (not verdict.covers - held and any(near_duplicate(text, self._text(c)) for c in chosen)):
                continue
            if chosen and used + len(text) > self.options.max_chars:
                continue
            chosen.append(cand)
            answered |= verdict.answers
            held |= verdict.covers
            used += len(text)
        return chosen

    def _other_document(self, passing: list[Candidate], chosen: list[Candidate]) -> Candidate | None:
        ratio = self.options.second_document_ratio
        if not chosen or not ratio:
            return None
        docs = {c.hit.chunk.doc_id for c in chosen}
        floor = ratio * max(c.score for c in chosen)
        for cand in passing:
            if cand.hit.chunk.doc_id in docs or cand.score < floor:
                continue
            if any(near_duplicate(self._text(cand), self._text(c)) for c in chosen):
                return None
            return cand
        return None

    def _sentences(self, cand: Candidate, extend: bool, group: bool) -> Part:
        """The whole sentences of a candidate (a chunk may cut a sentence at a
        comma; a quote never does), run on through its paragraph for an
        explanation. A table row is quoted as it is, or with its whole group
        for a list question ("贸易畅通类有哪些项目" wants every row of the category)."""
        text = self._doc(cand.hit).text
        if "\t" in text[cand.start : cand.end]:
            if group:
                s, e = row_group(text, cand.start)
                return Part(cand.hit, ((min(s, cand.start), max(e, cand.end)),), table=True)
            return Part(cand.hit, ((cand.start, cand.end),), table=True)
        first = sections.sentence_at(text, cand.start)
        spans = [first]
        end = first[1]
        while end < cand.end:
            nxt = sections.sentence_at(text, end + (1 if text[end : end + 1].isspace() else 0))
            if nxt[1] <= end:
                break
            spans.append(nxt)
            end = nxt[1]
        if extend:
            # On through the paragraph while the sentences still match the
            # question: requirements often run past the best sentence.
            used = sum(e - s for s, e in spans)
            # The next sentence must match nearly as well as the one it follows.
            floor = max(self._floor, _EXTEND_RATIO * cand.evidence)
            for s, e in sections.following(text, spans[-1]):
                if used + e - s > self.options.max_chars or self._evidence_in(cand.hit.chunk.doc_id, s, e) < floor:
                    break
                spans.append((s, e))
                used += e - s
        # The section's own title is in the citation, not the answer.
        while len(spans) > 1 and sections.is_heading(text[spans[0][0] : spans[0][1]], cand.hit.chunk.section):
            spans.pop(0)
        if group:
            # One item of an inline enumeration ("一是…；二是…") answers a list question in part:
            # every item's opening sentence does.
            around = sections.body(text, cand.hit.chunk.section)
            siblings = next((found for span in spans if (found := sections.enumeration(text, around, span))), [])
            if siblings:
                return Part(cand.hit, tuple(self._within_budget(sorted(set(spans) | set(siblings)))))
        return Part(cand.hit, tuple(spans))

    def _evidence_in(self, doc_id: str, start: int, end: int) -> float:
        """The best evidence of the scored sentences within ``[start, end)``."""
        return max((ev for (d, s), ev in self._evidence.items() if d == doc_id and start <= s < end), default=0.0)

    def _within_budget(self, spans: list[tuple[int, int]], used: int = 0) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for s, e in spans:
            if out and used + e - s > self.options.max_chars:
                break
            out.append((s, e))
            used += e - s
        return out

    def _mentioning(self, doc_id: str, hits: list[Hit]) -> list[Chunk]:
        """Passages that may record ``doc_id``'s issuance: those retrieved for
        the question and the best matches of its title. Not every document's
        text: that would cost O(library) a question."""
        passages = {h.index: h.chunk for h in hits}
        if self.index.manifest.chunk_count <= _MENTIONING_LIBRARY:
            title = self.index.documents[doc_id].meta.title
            found = self.index.search_lexical(self.index.lexical.keywords(f"《{title}》 发布 印发"), _MENTIONING_CHUNKS)
            for key in found.keys.tolist():
                if key not in passages:
                    passages[key] = self.index.chunk(key)
        return list(passages.values())

    def _metadata_parts(self, analysis: QuestionAnalysis, hits: list[Hit]) -> list[Part]:
        """A part per named document: the manifest's value, attested by the
        passages that state it (the first two: its own line, and where the
        texts disagree another document's record among the passages retrieved
        for the question: reading every document would cost O(library))."""
        parts = []
        for doc_id in sorted(analysis.documents):
            mentioning = self._mentioning(doc_id, hits)  # metadata_evidence skips doc_id's own
            cited: set[tuple[str, tuple[int, int]]] = set()
            for field in analysis.metadata:
                value = manifest_value(self.index.documents[doc_id], field)
                evidence = metadata_evidence(self.index.documents[doc_id], field, mentioning)
                found = [f for f in evidence if f not in cited][:2]
                located = [(self.retriever.chunk_at(source, span[0]), (source, span)) for source, span in found]
                spans = [(i, f) for i, f in located if i is not None]
                if not value or not spans:
                    continue
                for n, (chunk_index, (source, span)) in enumerate(spans):
                    cited.add((source, span))
                    hit = self.retriever.hit(chunk_index, 1.0, 0.0, 0.0)
                    parts.append(Part(hit, (span,), about=doc_id, value=value if n == 0 else None))
        return parts

    # --- the answer ---------------------------------------------------------------

    def _coverage(
        self,
        analysis: QuestionAnalysis,
        parts: list[Part],
        answered: set[int] | None = None,
        passing: Sequence[Candidate] = (),
        verdicts: dict[int, Judgement] | None = None,
    ) -> Coverage:
        """Covered, or partly: a compared document without an answer, an ask
        no chosen sentence answers (what it lacks is named)."""
        if analysis.compare and len(analysis.documents) >= 2:
            documents = {p.about or p.hit.chunk.doc_id for p in parts}
            missing = [d for d in sorted(analysis.documents) if d not in documents]
            if missing:
                titles = tuple(f"《{self.index.documents[d].meta.title}》" for d in missing)
                return Coverage(CoverageStatus.PARTIAL, titles, None)
        grouped = [c for c in analysis.constraints if c.group is not None]
        if grouped and verdicts is not None:
            held = {t for p in parts for t in self._held(analysis, p)}
            lacking_names = tuple(c.text for c in grouped if c.text not in held)
            if lacking_names:
                return Coverage(CoverageStatus.PARTIAL, lacking_names, None)
        if answered is not None and verdicts is not None and len(answered) < len(analysis.asks):
            lacking = [m for c in passing[:1] for m in verdicts[id(c)].lacking]
            default = "部分问题" if analysis.lang == "zh" else "part of the question"
            return Coverage(CoverageStatus.PARTIAL, tuple(dict.fromkeys(m.what for m in lacking)) or (default,), None)
        return Coverage(CoverageStatus.COVERED)

    def _held(self, analysis: QuestionAnalysis, part: Part) -> set[str]:
        """The grouped constraints a part's quotes hold."""
        text = self._doc(part.hit).text
        quoted = compact(" ".join(text[s:e] for s, e in part.spans) + format_path(part.hit.chunk.section))
        return {c.text for c in analysis.constraints if c.group is not None and present(c, quoted)}

    def _answer(self, analysis: QuestionAnalysis, parts: list[Part], hits: list[Hit], confidence: float, cov: Coverage) -> Answer:
        cited = self._citations(parts)
        citations = [c for part in cited for c in part]
        if cov.status is CoverageStatus.PARTIAL and cov.note is None:
            cov = replace(cov, note=partial_note(analysis.lang, cov.missing))
        text = render(analysis, parts, cited, self.index.documents, cov)
        evidence_hits = list(dict.fromkeys(p.hit.index for p in parts))
        by_index = {h.index: h for h in hits} | {p.hit.index: p.hit for p in parts}
        ordered = [by_index[i] for i in evidence_hits] + [h for h in hits if h.index not in evidence_hits]
        return Answer(text, False, citations, ordered, confidence, analysis.lang, coverage=cov)

    def _abstain(
        self,
        analysis: QuestionAnalysis,
        relevant: list[Candidate],
        verdicts: dict[int, Judgement],
        hits: list[Hit],
        confidence: float,
        elsewhere: Sequence[Candidate] = (),
        missing: Sequence[Missing] | None = None,
    ) -> Answer:
        missing = list(missing) if missing is not None else self._missing(analysis, relevant, verdicts)
        threshold = self.options.threshold(analysis.lang)
        nearest = relevant[0] if relevant and relevant[0].evidence >= threshold else None
        other = elsewhere[0] if elsewhere else None
        reason = abstention_reason(
            analysis,
            missing,
            self._text(nearest) if nearest is not None else None,
            (self._doc(other.hit).meta.title, self._text(other)) if other is not None else None,
            [self.index.documents[d].meta.title for d in sorted(analysis.documents)],
        )
        what = tuple(dict.fromkeys(m.what for m in missing))
        related = tuple(dict.fromkeys([*(c.hit for c in ([other] if other else [])), *hits]))[:5]
        abstention = Abstention(reason, what, related)
        cov = Coverage(CoverageStatus.NOT_COVERED, what)  # the reason is the abstention's
        return Answer(reason, True, [], list(related) or hits, confidence, analysis.lang, coverage=cov, abstention=abstention)

    def _missing(self, analysis: QuestionAnalysis, relevant: list[Candidate], verdicts: dict[int, Judgement]) -> list[Missing]:
        """What the nearest evidence lacks: of the best-scored sentences, the
        one that lacks least."""
        absent = [Missing(c.text, Gap.ABSENT) for c in analysis.constraints if not c.in_library]
        judged = [verdicts[id(c)] for c in relevant[:5] if id(c) in verdicts]
        if not judged:
            return absent
        fewest = min(judged, key=lambda j: len(j.gaps))
        return list(dict.fromkeys([*absent, *fewest.gaps]))

    def _citations(self, parts: list[Part]) -> list[list[Citation]]:
        """Each part's citations, numbered through the whole answer."""
        cited: list[list[Citation]] = []
        count = 0

        def cite(hit: Hit, start: int, end: int, label: str | None = None) -> None:
            nonlocal count
            doc = self._doc(hit)
            quote = doc.text[start:end]
            count += 1
            cited[-1].append(
                Citation(
                    marker=count,
                    chunk_id=hit.chunk.chunk_id,
                    doc_id=doc.meta.doc_id,
                    title=doc.meta.title,
                    section=hit.chunk.section,
                    quote=quote,
                    start=start,
                    end=end,
                    score=round(hit.score, 4),
                    label=label,
                    lang=language_of(quote),
                )
            )

        for part in parts:
            cited.append([])
            text = self._doc(part.hit).text
            for start, end in part.spans:
                # A span outside the part's passage (another item of its section)
                # is cited with the chunk, and so the section path, it is in.
                at = self.retriever.chunk_at(part.hit.chunk.doc_id, start)
                hit = part.hit if at is None or at == part.hit.index else self.retriever.hit(at, part.hit.score, 0.0, 0.0)
                cite(hit, start, end)
                if "\t" in text[start:end]:
                    # A row whose category cell is blank: cite the cell it inherits.
                    for header, (s, e) in inherited_cells(text, start):
                        if not start <= s < end:
                            cite(hit, s, e, label=header)
        return cited

    def _doc(self, hit: Hit) -> IndexedDocument:
        return self.index.documents[hit.chunk.doc_id]

    def _text(self, cand: Candidate) -> str:
        return self._doc(cand.hit).text[cand.start : cand.end]
