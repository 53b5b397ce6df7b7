"""The data of the answering stage: a question as asked, the answer with its
citations, the events the question path streams, a generated answer's
verification, and the interface every LLM backend offers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from silkqa.index.language import Lang
from silkqa.service.retrieval.types import Hit

Mode = Literal["extractive", "generative"]


@dataclass(frozen=True)
class AnswerOptions:
    """How extractive answers are composed (built from ``Settings``, where each
    field is described)."""

    abstain_threshold_zh: float
    abstain_threshold_en: float
    max_sentences: int
    max_chars: int
    candidate_passages: int
    retrieved_passages: int  # what is retrieved for composing (candidates come from these)
    companion_ratio: float
    second_document_ratio: float

    def threshold(self, lang: Lang) -> float:
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
    # Set on a table cell cited for the row before it, e.g. "类目" for the
    # category its row inherits; the answer shows it as "（类目：民心相通[2]）".
    label: str | None = None


@dataclass
class Answer:
    text: str
    abstained: bool
    citations: list[Citation]
    passages: list[Hit]
    confidence: float
    lang: Lang
    mode: Mode = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    rewritten_question: str | None = None  # the standalone form of a follow-up (answering.followup)
    verification: VerificationReport | None = None  # set for generative answers (answering.generative.verify)


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Rewrite:
    question: str  # as asked
    standalone: str  # what retrieval and the answer use
    method: str | None  # "rules" or "llm" when rewritten, else None

    @property
    def rewritten(self) -> str | None:
        return self.standalone if self.method else None


@dataclass(frozen=True)
class SentenceCheck:
    text: str  # as generated, markers included
    markers: tuple[int, ...]
    supported: bool
    problems: tuple[str, ...]
    checks: tuple[str, ...]  # tests applied: "citation" or "attributed", "numbers", "names", "terms"
    term_support: float  # share of the sentence's content words found in its passages


@dataclass(frozen=True)
class VerificationReport:
    """How a generated answer fared: every sentence checked, which were kept,
    and whether the extractive answer had to stand in for it."""

    generator: str
    checked: tuple[SentenceCheck, ...]
    fallback: str | None = None  # why the extractive answer was used instead

    @property
    def verified(self) -> int:
        return sum(1 for c in self.checked if c.supported)

    @property
    def attributed(self) -> int:
        return sum(1 for c in self.checked if c.supported and c.checks[0] == "attributed")

    @property
    def rate(self) -> float:
        return self.verified / len(self.checked) if self.checked else 0.0


@dataclass(frozen=True)
class GenerationOptions:
    """How generative answers are written and verified (built from ``Settings``)."""

    passages: int
    max_new_tokens: int
    min_term_support: float
    min_verified_sentences: int
    prompt_version: str
    attribute_uncited: bool


@dataclass(frozen=True)
class AnsweringOptions:
    """Everything the question path needs to know, built from ``Settings`` in
    one place (``Settings.answering_options``)."""

    answer: AnswerOptions
    generation: GenerationOptions
    default_mode: Mode
    rewrite_followups_with_llm: bool  # when the rules cannot resolve a follow-up
    max_question_chars: int  # a rewritten follow-up is held to the question's limit


@dataclass(frozen=True)
class BackendOptions:
    """Which LLM backend to open and how (``SILKQA_LLM_*``)."""

    backend: Literal["none", "openai", "local"]
    base_url: str
    model: str
    api_key: str | None
    timeout_seconds: float
    model_dir: Path
    repetition_penalty: float


@dataclass(frozen=True)
class Question:
    """A question as a client asks it: the text, the conversation before it,
    how many passages to return, and the answer mode (None: the default)."""

    text: str
    top_k: int = 5
    history: tuple[Turn, ...] = ()
    mode: Mode | None = None


class ModeUnavailable(ValueError):
    """Generative mode was asked for but no LLM backend is configured."""


@dataclass(frozen=True)
class Started:
    question: str
    rewritten_question: str | None
    lang: Lang
    mode: Mode  # the mode that will answer: "generative", or "extractive" (also when abstaining)


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finished:
    answer: Answer


Event = Started | Delta | Finished


class GenerationError(RuntimeError):
    """The backend failed to produce text (unreachable server, bad reply, model error)."""


class BackendUnavailable(RuntimeError):
    """The configured backend cannot be used here (missing extra, bad model files)."""


Messages = list[dict[str, str]]  # [{"role": "system" | "user" | "assistant", "content": ...}]


class Generator(Protocol):
    name: str  # shown in responses, e.g. "local:qwen2.5-coder-0.5b-instruct-q4_k_m"

    def stream(self, messages: Messages, max_tokens: int, cancel: threading.Event | None = None) -> Iterator[str]:
        """Text pieces of a greedy (deterministic) completion. Setting ``cancel``
        stops the generation after the current token; closing the iterator does too."""
        ...
