"""One question through the whole path, as events a client can stream:
follow-up rewriting (``service.followup``), retrieval and the extractive answer
(``QAEngine.ask``), then in generative mode the verified LLM answer
(``service.generation.answerer``). ``/v1/ask`` (streamed or not) and
``/v1/chat/completions`` all consume these same events, so their answers and
citations cannot differ."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from service import telemetry
from service.answer import Answer
from service.engine import QAEngine
from service.followup import Rewrite, Turn, acceptable_rewrite, format_history, needs_context, rewrite_by_rules
from service.generation import GenerationError, Generator, complete
from service.generation.answerer import GenerationOptions, GenerativeAnswerer
from service.generation.prompts import PromptTemplate
from service.retrieval import detect_language
from service.verify import MARKER


class ModeUnavailable(ValueError):
    """Generative mode was asked for but no LLM backend is configured."""


@dataclass(frozen=True)
class Started:
    question: str
    rewritten_question: str | None
    lang: str
    mode: str  # the mode that will answer: "generative", or "extractive" (also when abstaining)


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finished:
    answer: Answer


Event = Started | Delta | Finished


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


class Asker:
    def __init__(self, engine: QAEngine, generator: Generator | None = None):
        self.engine = engine
        self.generator = generator
        s = engine.settings
        self.options = GenerationOptions(
            passages=s.llm_passages,
            max_new_tokens=s.llm_max_new_tokens,
            min_term_support=s.llm_min_term_support,
            min_verified_sentences=s.llm_min_verified_sentences,
            prompt_version=s.llm_prompt_version,
            attribute_uncited=s.llm_attribute_uncited,
        )

    def modes(self) -> list[str]:
        return ["extractive", "generative"] if self.generator else ["extractive"]

    def resolve_mode(self, mode: str | None) -> str:
        mode = mode or self.engine.settings.answer_mode
        if mode == "generative" and self.generator is None:
            raise ModeUnavailable("generative mode needs an LLM backend (SILKQA_LLM_BACKEND=openai or local)")
        return mode

    def ask(self, question: str, top_k: int, history: Sequence[Turn] = (), mode: str | None = None) -> Answer:
        events = list(self.events(question, top_k, history, mode))
        final = events[-1]
        assert isinstance(final, Finished)
        return final.answer

    def events(
        self,
        question: str,
        top_k: int,
        history: Sequence[Turn] = (),
        mode: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Event]:
        """Raises ModeUnavailable at once (before anything is streamed)."""
        return self._events(question, top_k, list(history), self.resolve_mode(mode), cancel)

    def _events(
        self, question: str, top_k: int, history: list[Turn], mode: str, cancel: threading.Event | None
    ) -> Iterator[Event]:
        t0 = time.perf_counter()
        rewrite = self.rewrite(question, history, cancel)
        t1 = time.perf_counter()
        index = self.engine.index
        extractive = self.engine.ask(rewrite.standalone, max(top_k, self.options.passages))
        t2 = time.perf_counter()
        generative = mode == "generative" and not extractive.abstained
        yield Started(question, rewrite.rewritten, extractive.lang, "generative" if generative else "extractive")
        final = extractive
        if generative:
            answerer = GenerativeAnswerer(self.generator, self.options)
            for item in answerer.stream(index, rewrite.standalone, extractive, cancel):
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
        answer = replace(final, passages=extractive.passages[:top_k], rewritten_question=rewrite.rewritten, timings_ms=timings)
        telemetry.report(answer)  # stage timings and abstention to the serving request's metrics
        yield Finished(answer)

    def rewrite(self, question: str, history: list[Turn], cancel: threading.Event | None = None) -> Rewrite:
        """Rules first; the LLM, when one is configured, for a question that
        leans on the conversation in a way the rules could not resolve (its
        rewrite is used only if it looks like one question). Rules go first
        because the local 0.5B model rewrites worse than they do: "What are its
        goals?" after a question on the 2022 opinion's coal policy became
        "What is coal power's goal?"."""
        by_rules = rewrite_by_rules(question, history)
        settings = self.engine.settings
        if by_rules.method or self.generator is None or not settings.llm_rewrite_followups:
            return by_rules
        if not needs_context(question, history):  # it stands on its own
            return by_rules
        lang = detect_language(question)
        template = PromptTemplate.load("rewrite", settings.llm_prompt_version, lang)
        messages = template.render(history=format_history(history, lang), question=question)
        try:
            text = complete(self.generator, messages, 80, cancel).strip().splitlines()
        except GenerationError:
            return by_rules
        candidate = text[0].strip() if text else ""
        if acceptable_rewrite(candidate, question):
            return Rewrite(question, candidate, "llm")
        return by_rules
