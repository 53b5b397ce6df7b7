"""The data of the answering stage: a question as asked, the answer with its
citations, the events the question path streams, a generated answer's
verification, and the interface every LLM backend offers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

from silkqa.index.language import Lang
from silkqa.service.answering.quantities import Quantity
from silkqa.service.retrieval.types import Hit

Mode = Literal["extractive", "generative"]


# --- what a question asks (answering.question) ------------------------------------


class AnswerType(StrEnum):
    FIGURE = "figure"  # a number of some unit family (see quantities)
    DATE = "date"
    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    REASON = "reason"
    DEFINITION = "definition"
    YES_NO = "yes_no"
    LIST = "list"
    OTHER = "other"


# Answers that name a type of fact, to be found bound to the asked attribute.
TYPED_ANSWERS = frozenset({AnswerType.FIGURE, AnswerType.DATE, AnswerType.PLACE, AnswerType.ORGANISATION, AnswerType.PERSON})


class ConstraintKind(StrEnum):
    NAME = "name"  # a place, organisation, person, project or programme
    QUOTED = "quoted"  # 《…》 or “…”
    YEAR = "year"
    NUMBER = "number"  # a figure with its unit, as asked
    TERM = "term"  # a word no document contains anything of (天气)


@dataclass(frozen=True)
class Constraint:
    """Something the evidence must contain for the answer to be about what was asked."""

    text: str  # as the question says it
    kind: ConstraintKind
    forms: tuple[str, ...]  # folded strings any of which counts (translations, the year's digits)
    in_library: bool  # some passage contains a form of it
    # Constraints of one group are alternatives, each answered in its own
    # sentence: "柬埔寨、老挝", "X是什么时候成立的？Y呢？". None: on its own.
    group: int | None = None
    # The ask whose clause alone names it, after its question word: in
    # "每年能省多少煤、减多少二氧化碳" 二氧化碳 binds the second ask, not the first.
    ask: int | None = None
    # A short form the documents may spell out (亚投行 is 亚洲基础设施投资银行 there):
    # found as its characters in order within one name, so the library's
    # vocabulary cannot tell whether a document has it, only evidence can.
    abbreviation: bool = False
    # A foreign name no dictionary has (Karot, Mozura): found by its sound as
    # the documents' transliteration (卡洛特, 莫祖拉) in the evidence itself.
    transliterated: bool = False
    # Only the kind of a name no dictionary has as a whole (the Coalition of
    # "BRI International Green Development Coalition" → 联盟): what the
    # evidence must name, but no translation of the name.
    kind_only: bool = False


class MetadataField(StrEnum):
    ISSUER = "issuer"
    DATE = "date"
    NUMBER = "doc_number"


@dataclass(frozen=True)
class Ask:
    """One thing a question asks ("蒙内铁路有多长？连接的是哪两个地方？" asks two):
    the type of answer, the unit families a figure must have, the words of the
    asked attribute ("运营" in "哪一年开始运营"), and those of them the evidence
    must hold one of (a date of the operation, not any date)."""

    answer_type: AnswerType
    quantities: frozenset[Quantity]
    attribute: tuple[str, ...]
    bound_to: tuple[str, ...]
    # What a figure counts, every word of it: "几趟客运列车" is not answered by
    # freight trains (客运, 列车).
    counted: tuple[str, ...] = ()
    # The class the body asked for belongs to: "哪家银行" wants a …银行.
    kind_of: str = ""


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    lang: Lang
    asks: tuple[Ask, ...]  # at least one
    constraints: tuple[Constraint, ...]
    focus: tuple[str, ...]  # the question's other content words
    documents: frozenset[str]  # doc ids it names by title or alias
    several: bool  # wants a list, or an answer in parts
    compare: bool  # one part per named document or item
    metadata: tuple[MetadataField, ...]  # a named document's particulars it asks for (issuer, date, number)
    part: str | None = None  # the numeral of the part it names ("第四部分" → "四")
    # What the question takes for not done ("为什么没做环评就开工了" → 环评): evidence
    # that it was done contradicts the question instead of answering it.
    denied: tuple[str, ...] = ()

    @property
    def answer_type(self) -> AnswerType:
        """What the first ask wants: the shape of the answer."""
        return self.asks[0].answer_type

    @property
    def attribute(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for ask in self.asks for w in ask.attribute))


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


class CoverageStatus(StrEnum):
    COVERED = "covered"  # the evidence answers every part of the question
    PARTIAL = "partial"  # some parts are answered; ``missing`` names the others
    NOT_COVERED = "not_covered"  # nothing in the documents answers it (the answer abstains)


@dataclass(frozen=True)
class Coverage:
    """How fully the documents answer the question, and what they lack."""

    status: CoverageStatus
    missing: tuple[str, ...] = ()
    note: str | None = None  # a sentence saying what is missing (partial answers)


COVERED = Coverage(CoverageStatus.COVERED)


@dataclass(frozen=True)
class Abstention:
    """Why the documents do not answer a question: ``reason`` says what they do
    and do not contain, ``missing`` names what was asked and not found, and
    ``related`` are the nearest passages (reading, not evidence)."""

    reason: str
    missing: tuple[str, ...]
    related: tuple[Hit, ...]


@dataclass(frozen=True)
class Part:
    """One part of an answer: whole-sentence spans of one passage's document,
    in reading order. ``listed``: the items of a section, one per line;
    ``table``: a table row group; ``about``: the document a metadata part
    answers for, when its evidence is in another one."""

    hit: Hit
    spans: tuple[tuple[int, int], ...]
    listed: bool = False
    table: bool = False
    about: str | None = None
    value: str | None = None  # a metadata answer's value, from the manifest, that the spans attest


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
    lang: Lang = "zh"  # the language of the quote (an English answer quotes Chinese text)


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
    coverage: Coverage = COVERED
    abstention: Abstention | None = None  # set when ``abstained``
    build_id: str = ""  # the library build the answer was read from (recorded with conversations and feedback)


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
    how many passages to return, the answer mode (None: the default) and the
    documents to answer from (None: the whole library)."""

    text: str
    top_k: int = 5
    history: tuple[Turn, ...] = ()
    mode: Mode | None = None
    doc_ids: tuple[str, ...] | None = None


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
