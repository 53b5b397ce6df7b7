"""The one question path: a question through follow-up rewriting
(``answering.followup``), retrieval, the extractive answer
(``answering.extractive``) and, in generative mode, the verified LLM answer
(``answering.generative``), as events a client can stream.

Every entry answers through ``AnswerPipeline.run``: ``/v1/ask`` (JSON and
SSE), ``/v1/chat/completions``, ``silkqa ask`` and the in-process eval, so what
the eval measures is what clients get. A run takes one snapshot of the library
when it starts and reads only that snapshot to its end: an update published
meanwhile never mixes two builds into one answer."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

from silkqa.index.language import MARKER, question_language
from silkqa.service.answering import telemetry
from silkqa.service.answering.extractive import AnswerComposer
from silkqa.service.answering.followup import acceptable_rewrite, format_history, needs_context, rewrite_by_rules
from silkqa.service.answering.generative.answerer import GenerativeAnswerer
from silkqa.service.answering.generative.backends import complete
from silkqa.service.answering.generative.prompts import PromptTemplate
from silkqa.service.answering.question import LibraryTerms, analyze, within
from silkqa.service.answering.types import (
    Answer,
    AnsweringOptions,
    Delta,
    Event,
    Finished,
    GenerationError,
    Generator,
    Mode,
    ModeUnavailable,
    Question,
    Rewrite,
    Started,
    Turn,
)
from silkqa.service.retrieval.types import Snapshot, SnapshotSource


def text_pieces(text: str) -> list[str]:
    """An extractive answer in the pieces it is streamed in: up to and including
    each marker or line break. Concatenated they are the text."""
    cuts = sorted({m.end() for m in MARKER.finditer(text)} | {m.end() for m in re.finditer(r"\n", text)})
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(text[start:cut])
        start = cut
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


class AnswerPipeline:
    def __init__(self, library: SnapshotSource, options: AnsweringOptions, generator: Generator | None = None):
        self.library = library
        self.options = options
        self.generator = generator

    def modes(self) -> list[Mode]:
        return ["extractive", "generative"] if self.generator else ["extractive"]

    def resolve_mode(self, mode: Mode | None) -> Mode:
        mode = mode or self.options.default_mode
        if mode == "generative" and self.generator is None:
            raise ModeUnavailable("generative mode needs an LLM backend (SILKQA_LLM_BACKEND=openai or local)")
        return mode

    def answer(self, question: Question) -> Answer:
        """The finished answer of ``run``."""
        final = None
        for event in self.run(question):
            if isinstance(event, Finished):
                final = event.answer
        assert final is not None, "run always ends with Finished"
        return final

    def run(self, question: Question, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Started, Delta…, Finished. Raises ModeUnavailable at once (before
        anything is streamed); ``cancel`` stops a generation after its current token."""
        return self._events(self.library.current(), question, self.resolve_mode(question.mode), cancel)

    def _events(self, snapshot: Snapshot, question: Question, mode: Mode, cancel: threading.Event | None) -> Iterator[Event]:
        options = self.options
        t0 = time.perf_counter()
        rewrite = self.rewrite(question.text, list(question.history), cancel)
        t1 = time.perf_counter()
        top_k = max(question.top_k, options.generation.passages)
        doc_ids = frozenset(question.doc_ids) if question.doc_ids is not None else None
        extractive = self._extractive(snapshot, rewrite.standalone, top_k, doc_ids)
        t2 = time.perf_counter()
        generative = mode == "generative" and not extractive.abstained
        yield Started(question.text, rewrite.rewritten, extractive.lang, "generative" if generative else "extractive")
        final = extractive
        if generative:
            assert self.generator is not None  # resolve_mode made sure
            answerer = GenerativeAnswerer(self.generator, options.generation)
            for item in answerer.stream(snapshot.index, rewrite.standalone, extractive, cancel):
                if isinstance(item, Answer):
                    final = item
                else:
                    yield Delta(item)
        else:
            for piece in text_pieces(extractive.text):
                yield Delta(piece)
        timings = {"rewrite": _ms(t1 - t0), **extractive.timings_ms}
        if generative:
            timings["generate"] = _ms(time.perf_counter() - t2)
        answer = replace(
            final,
            passages=extractive.passages[: question.top_k],
            rewritten_question=rewrite.rewritten,
            timings_ms=timings,
            build_id=snapshot.build_id,
        )
        telemetry.report(answer)  # stage timings and abstention to the serving request's metrics
        yield Finished(answer)

    def _extractive(self, snapshot: Snapshot, question: str, top_k: int, doc_ids: frozenset[str] | None) -> Answer:
        retriever = snapshot.retriever
        composer = AnswerComposer(retriever, self.options.answer)
        t0 = time.perf_counter()
        query = retriever.analyze(question)
        analysis = analyze(question, LibraryTerms(snapshot.index.lexical), retriever.document_names, retriever.document_years)
        if doc_ids is not None:
            analysis = within(analysis, doc_ids)
        t1 = time.perf_counter()
        retrieval: dict[str, float] = {}  # bm25, dense, fusion
        hits = retriever.search(query, max(top_k, self.options.answer.retrieved_passages), retrieval, doc_ids)
        t2 = time.perf_counter()
        answer = composer.compose(query, analysis, hits)
        t3 = time.perf_counter()
        return replace(
            answer,
            passages=answer.passages[:top_k],
            timings_ms={"embed": _ms(t1 - t0), "retrieve": _ms(t2 - t1), **retrieval, "answer": _ms(t3 - t2)},
        )

    def rewrite(self, question: str, history: list[Turn], cancel: threading.Event | None = None) -> Rewrite:
        """Rules first; the LLM, when one is configured, for a question that
        leans on the conversation in a way the rules could not resolve (its
        rewrite is used only if it looks like one question). Rules go first
        because the local 0.5B model rewrites worse than they do: "What are its
        goals?" after a question on the 2022 opinion's coal policy became
        "What is coal power's goal?"."""
        by_rules = rewrite_by_rules(question, history, self.options.max_question_chars)
        if by_rules.method or self.generator is None or not self.options.rewrite_followups_with_llm:
            return by_rules
        if not needs_context(question, history):  # it stands on its own
            return by_rules
        lang = question_language(question)
        template = PromptTemplate.load("rewrite", self.options.generation.prompt_version, lang)
        messages = template.render(history=format_history(history, lang), question=question)
        try:
            text = complete(self.generator, messages, 80, cancel).strip().splitlines()
        except GenerationError:
            return by_rules
        candidate = text[0].strip() if text else ""
        if acceptable_rewrite(candidate, question):
            return Rewrite(question, candidate, "llm")
        return by_rules
