"""Request and response models of the public API (their names are a contract:
other tools call them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from silkqa.index.ingest.structure import format_path
from silkqa.index.store.types import IndexedDocument
from silkqa.service.answering.types import Abstention, Answer, Citation, Coverage, VerificationReport
from silkqa.service.retrieval.types import Hit


def _whole(value: object) -> object:
    # JSON has one number type: to a JSON Schema validator, and so to the
    # published schema, 5.0 is the integer 5. Strings stay refused (strict models).
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[int, BeforeValidator(_whole)]
DocumentIds = Annotated[list[Annotated[str, Field(max_length=80)]], Field(min_length=1, max_length=100)]


class HistoryTurn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=20000)


class AskRequest(BaseModel):
    # Unknown fields are refused, as on /v1/documents: a misspelt `top-k` must not be silently ignored.
    model_config = ConfigDict(strict=True, extra="forbid")

    question: str = Field(..., min_length=1, description="The question, in Chinese or English.")
    top_k: WholeNumber = Field(5, ge=1, description="Passages returned (at most SILKQA_TOP_K_MAX).")
    history: list[HistoryTurn] = Field(
        default_factory=list,
        max_length=50,
        description="Earlier turns of the conversation, oldest first; a follow-up question is rewritten "
        "into a standalone one with them (see `rewritten_question`).",
    )
    mode: Literal["extractive", "generative"] | None = Field(
        None, description="Answerer to use (default SILKQA_ANSWER_MODE); generative needs SILKQA_LLM_BACKEND."
    )
    stream: bool = Field(
        False,
        description="Answer as Server-Sent Events: `meta`, `delta`…, `citations`, `done` (or `error`).",
    )
    doc_ids: DocumentIds | None = Field(
        None,
        description="Answer from these documents only (null: the whole library); unknown ids are refused (422).",
    )
    conversation_id: str | None = Field(
        None,
        max_length=64,
        description="Record the question and its answer in this conversation of yours (`POST /v1/conversations`); "
        "the response then carries its `turn_id`, which feedback refers to.",
    )


class SearchRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    query: str = Field(..., min_length=1)
    top_k: WholeNumber = Field(5, ge=1)
    doc_ids: DocumentIds | None = Field(None, description="Search these documents only (null: the whole library).")


class Passage(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    section: str = Field(description='Section path, e.g. "四、组织保障 › （三）加强人才队伍建设".')
    text: str = Field(description="Exactly document.text[start:end].")
    start: int
    end: int
    score: float
    context: str = Field(
        "",
        description="For a table row: the table's caption, column headers and cells inherited from rows above "
        '(e.g. "规划涉及 25 个重点项目；类目：贸易畅通；…"); not part of the cited text.',
    )

    @classmethod
    def of(cls, hit: Hit) -> Passage:
        c = hit.chunk
        return cls(
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            title=hit.title,
            section=format_path(c.section),
            text=c.text,
            start=c.start,
            end=c.end,
            score=round(hit.score, 4),
            context=c.context,
        )


class CitationOut(BaseModel):
    marker: int = Field(description="The [n] in the answer text.")
    chunk_id: str
    doc_id: str
    title: str
    section: str
    quote: str = Field(description="Exactly document.text[start:end].")
    start: int
    end: int
    score: float
    lang: Literal["zh", "en"] = Field(
        "zh", description="Language of the quote: an English answer over Chinese documents quotes Chinese text."
    )

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        return cls(
            marker=c.marker,
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            title=c.title,
            section=format_path(c.section),
            quote=c.quote,
            start=c.start,
            end=c.end,
            score=c.score,
            lang=c.lang,
        )


class CoverageOut(BaseModel):
    status: Literal["covered", "partial", "not_covered"] = Field(
        description='"covered": every part of the question is answered; "partial": some parts are, `missing` '
        'names the others; "not_covered": the documents do not answer it (the answer abstains).'
    )
    missing: list[str] = Field(description="The parts of the question the documents do not answer, as asked.")
    note: str | None = Field(None, description="A sentence saying what is missing (partial answers).")

    @classmethod
    def of(cls, coverage: Coverage) -> CoverageOut:
        return cls(status=coverage.status.value, missing=list(coverage.missing), note=coverage.note)


class AbstentionOut(BaseModel):
    reason: str = Field(description="What the documents contain and what they lack for this question.")
    missing: list[str] = Field(description='What was asked and not found, e.g. ["坦桑尼亚"].')
    related: list[Passage] = Field(description="The nearest passages, for reading: they are not evidence for an answer.")

    @classmethod
    def of(cls, abstention: Abstention) -> AbstentionOut:
        return cls(
            reason=abstention.reason,
            missing=list(abstention.missing),
            related=[Passage.of(h) for h in abstention.related],
        )


class SentenceCheckOut(BaseModel):
    text: str = Field(description="The sentence as generated, with the model's passage numbers.")
    supported: bool
    problems: list[str]
    checks: list[str] = Field(description='Tests applied: "citation", "numbers", "names", "terms".')


class VerificationOut(BaseModel):
    generator: str = Field(description='The LLM backend, e.g. "local:qwen2.5-coder-0.5b-instruct-q4_k_m".')
    sentences: int = Field(description="Generated sentences checked.")
    verified: int = Field(description="Sentences kept: cited, with their numbers and terms in the cited passages.")
    fallback: str | None = Field(description="Why the extractive answer was given instead (null when it was not).")
    checked: list[SentenceCheckOut]

    @classmethod
    def of(cls, report: VerificationReport) -> VerificationOut:
        return cls(
            generator=report.generator,
            sentences=len(report.checked),
            verified=report.verified,
            fallback=report.fallback,
            checked=[
                SentenceCheckOut(text=c.text, supported=c.supported, problems=list(c.problems), checks=list(c.checks))
                for c in report.checked
            ],
        )


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    coverage: CoverageOut = Field(description="How fully the documents answer the question.")
    abstention: AbstentionOut | None = Field(
        None, description="Why the documents do not answer the question (set when `abstained`)."
    )
    citations: list[CitationOut]
    passages: list[Passage]
    mode: str = Field(description='Which answerer produced the answer: "extractive" or "generative".')
    lang: str = Field(description='Detected language of the question ("zh" or "en").')
    confidence: float = Field(description="Evidence score the abstention threshold is compared with.")
    timings_ms: dict[str, float]
    rewritten_question: str | None = Field(
        None, description="The standalone question a follow-up was rewritten into (null when unchanged)."
    )
    verification: VerificationOut | None = Field(
        None, description="How the generated answer's sentences fared (generative mode only)."
    )
    conversation_id: str | None = Field(None, description="The conversation the exchange was recorded in (when asked to).")
    turn_id: int | None = Field(None, description="The recorded exchange, for `POST /v1/feedback` (null when not recorded).")

    @classmethod
    def of(cls, answer: Answer) -> AskResponse:
        return cls(
            answer=answer.text,
            abstained=answer.abstained,
            coverage=CoverageOut.of(answer.coverage),
            abstention=AbstentionOut.of(answer.abstention) if answer.abstention else None,
            citations=[CitationOut.of(c) for c in answer.citations],
            passages=[Passage.of(h) for h in answer.passages],
            mode=answer.mode,
            lang=answer.lang,
            confidence=round(answer.confidence, 4),
            timings_ms=answer.timings_ms,
            rewritten_question=answer.rewritten_question,
            verification=VerificationOut.of(answer.verification) if answer.verification else None,
        )


class SearchResponse(BaseModel):
    results: list[Passage]


class DocumentInfo(BaseModel):
    doc_id: str
    title: str
    title_en: str | None
    issuer: str | None
    date: str | None
    date_note: str | None
    doc_number: str | None
    kind: str | None
    original_file: str | None
    length: int = Field(description="Characters in the cleaned text.")
    chunk_count: int

    @classmethod
    def of(cls, doc: IndexedDocument, chunk_count: int) -> DocumentInfo:
        m = doc.meta
        return cls(
            doc_id=m.doc_id,
            title=m.title,
            title_en=m.title_en,
            issuer=m.issuer,
            date=m.date,
            date_note=m.date_note,
            doc_number=m.doc_number,
            kind=m.kind,
            original_file=m.original_file,
            length=len(doc.text),
            chunk_count=chunk_count,
        )


class DocumentList(BaseModel):
    documents: list[DocumentInfo]


class DocumentDetail(DocumentInfo):
    text: str = Field(description="The cleaned text that citation spans index into.")
    offset_map: list[list[int]] = Field(
        description="Runs [clean_start, original_start, length]: cleaned text[clean_start:clean_start+length] "
        "is original file text[original_start:original_start+length]."
    )


class Health(BaseModel):
    status: str
    documents: int
    chunks: int
    model: str
    index_built_at: str
