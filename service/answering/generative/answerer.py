"""Generative answers whose every sentence is verified before anyone sees it.

The model gets the top passages, numbered, and the question (``prompts/``). Its
text is cut into sentences as it streams; each sentence is checked against the
passages it cites (``answering.generative.verify``) and only a supported one is passed on,
with its markers renumbered to the answer's own citations. Each citation quotes
the sentences of its passage that support what was said, as an exact span of
the document. When fewer than the required sentences survive, the extractive
answer is given instead, and the report says why."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

from silkqa.index.ingest.structure import format_path
from silkqa.index.language import MARKER, markers_in, strip_markers
from silkqa.index.store.types import IndexView
from silkqa.service.answering.generative.prompts import PromptTemplate, passage_block
from silkqa.service.answering.generative.verify import (
    LEADING_MARKERS,
    LIST_MARK,
    SentenceStream,
    check_sentence,
    is_list_mark,
    supporting_span,
)
from silkqa.service.answering.types import (
    Answer,
    Citation,
    GenerationError,
    GenerationOptions,
    Generator,
    SentenceCheck,
    VerificationReport,
)
from silkqa.service.retrieval.types import Hit

log = logging.getLogger("silkqa.llm")


@dataclass(frozen=True)
class Shown:
    """One numbered passage as the model saw it."""

    hit: Hit
    title: str

    @property
    def source(self) -> str:
        section = format_path(self.hit.chunk.section)
        return f"《{self.title}》" + (f" {section}" if section else "")

    @property
    def text(self) -> str:
        chunk = self.hit.chunk
        return f"{chunk.context}\n{chunk.text}" if chunk.context else chunk.text

    @property
    def evidence(self) -> str:
        """What a sentence citing it may draw on: its source line and its text."""
        return f"{self.source}\n{self.text}"


class _Renumbering:
    """Passage numbers as the model used them → the answer's markers, in order of first use."""

    def __init__(self) -> None:
        self.order: list[int] = []

    def apply(self, sentence: str) -> str:
        def renumber(m: re.Match[str]) -> str:
            numbers = [int(p) for p in m.group(1).replace("，", ",").replace("、", ",").split(",")]
            for n in numbers:
                if n not in self.order:
                    self.order.append(n)
            return "".join(f"[{self.order.index(n) + 1}]" for n in dict.fromkeys(numbers))

        return MARKER.sub(renumber, sentence)


def markers_last(sentence: str) -> str:
    """ "[1] 文本。" (a list item) reads as "文本。[1]", like every other answer."""
    lead = LEADING_MARKERS.match(sentence)
    return sentence[lead.end() :].strip() + lead.group(0).replace(" ", "").strip() if lead else sentence


class GenerativeAnswerer:
    def __init__(self, generator: Generator, options: GenerationOptions):
        self.generator = generator
        self.options = options

    def shown(self, hits: list[Hit]) -> list[Shown]:
        return [Shown(h, h.title) for h in hits[: self.options.passages]]

    def stream(
        self, index: IndexView, question: str, extractive: Answer, cancel: threading.Event | None = None
    ) -> Iterator[str | Answer]:
        """Verified answer text in pieces, then the finished ``Answer`` (the
        extractive one, with the report, when too little survived)."""
        shown = self.shown(extractive.passages)
        template = PromptTemplate.load("answer", self.options.prompt_version, extractive.lang)
        messages = template.render(passages=passage_block([(p.source, p.text) for p in shown]), question=question)
        evidence = [p.evidence for p in shown]
        separator = "" if extractive.lang == "zh" else " "
        checked: list[SentenceCheck] = []
        kept: list[tuple[str, str]] = []  # (sentence with the model's markers, as shown with the answer's)
        renumbering = _Renumbering()
        emitted = 0
        failure = None
        splitter = SentenceStream()
        seen: set[str] = set()

        def verified(sentences: list[str]) -> bool:
            """Check and keep; False once the model repeats itself (it loops)."""
            for sentence in sentences:
                if is_list_mark(sentence):
                    continue
                claim = strip_markers(sentence).strip()
                if claim in seen:
                    return False
                seen.add(claim)
                check = check_sentence(sentence, evidence, self.options.min_term_support, self.options.attribute_uncited)
                checked.append(check)
                if check.supported:
                    cited = LIST_MARK.sub("", sentence)
                    if check.checks[0] == "attributed":
                        cited += f"[{check.markers[0]}]"
                    kept.append((cited, renumbering.apply(markers_last(cited))))
            return True

        pieces = self.generator.stream(messages, self.options.max_new_tokens, cancel)
        try:
            for piece in pieces:
                if not verified(splitter.feed(piece)):
                    break
                # Hold the first sentences back until enough are verified: a
                # fallback must not follow text that was already sent.
                if len(kept) >= self.options.min_verified_sentences:
                    while emitted < len(kept):
                        yield (separator if emitted else "") + kept[emitted][1]
                        emitted += 1
            else:
                verified(splitter.flush())
        except GenerationError as exc:
            log.warning("generation failed: %s", exc)
            failure = f"the generator failed: {exc}"
        finally:
            close = getattr(pieces, "close", None)
            if close:
                close()  # stops the model when it is cut short
        if emitted == 0 and (failure or len(kept) < self.options.min_verified_sentences):
            reason = failure or f"{len(kept)} of {len(checked)} generated sentences verified"
            yield extractive.text
            yield replace(extractive, verification=VerificationReport(self.generator.name, tuple(checked), reason))
            return
        while emitted < len(kept):
            yield (separator if emitted else "") + kept[emitted][1]
            emitted += 1
        yield replace(
            extractive,
            text=separator.join(shown_text for _, shown_text in kept),
            citations=self._citations(index, shown, kept, renumbering.order),
            mode="generative",
            verification=VerificationReport(self.generator.name, tuple(checked)),
        )

    def _citations(self, index: IndexView, shown: list[Shown], kept: list[tuple[str, str]], order: list[int]) -> list[Citation]:
        citations = []
        for marker, n in enumerate(order, start=1):
            hit = shown[n - 1].hit
            chunk = hit.chunk
            doc = index.documents[chunk.doc_id]
            spans = [
                span
                for sentence, _ in kept
                if n in markers_in(sentence) and (span := supporting_span(sentence, doc.text, chunk.sentences)) is not None
            ]
            start, end = (min(s for s, _ in spans), max(e for _, e in spans)) if spans else (chunk.start, chunk.end)
            citations.append(
                Citation(
                    marker=marker,
                    chunk_id=chunk.chunk_id,
                    doc_id=chunk.doc_id,
                    title=doc.meta.title,
                    section=chunk.section,
                    quote=doc.text[start:end],
                    start=start,
                    end=end,
                    score=round(hit.score, 4),
                )
            )
        return citations
