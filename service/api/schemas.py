"""Request and response models of the public API (their names are a contract:
other tools call them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from index.build import IndexedDocument
from index.structure import format_path
from service.answer import Answer, Citation
from service.retrieval import Hit


class AskRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    question: str = Field(..., min_length=1, description="The question, in Chinese or English.")
    top_k: int = Field(5, ge=1, description="Passages returned (at most SILKQA_TOP_K_MAX).")


class SearchRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    query: str = Field(..., min_length=1)
    top_k: int = Field(5, ge=1)


class Passage(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    section: str = Field(description='Section path, e.g. "四、组织保障 › （三）加强人才队伍建设".')
    text: str = Field(description="Exactly document.text[start:end].")
    start: int
    end: int
    score: float

    @classmethod
    def of(cls, hit: Hit, title: str) -> Passage:
        c = hit.chunk
        return cls(
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            title=title,
            section=format_path(c.section),
            text=c.text,
            start=c.start,
            end=c.end,
            score=round(hit.score, 4),
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
        )


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    citations: list[CitationOut]
    passages: list[Passage]
    mode: str = Field(description='Which answerer produced the answer ("extractive").')
    lang: str = Field(description='Detected language of the question ("zh" or "en").')
    confidence: float = Field(description="Evidence score the abstention threshold is compared with.")
    timings_ms: dict[str, float]

    @classmethod
    def of(cls, answer: Answer, titles: dict[str, str]) -> AskResponse:
        return cls(
            answer=answer.text,
            abstained=answer.abstained,
            citations=[CitationOut.of(c) for c in answer.citations],
            passages=[Passage.of(h, titles[h.chunk.doc_id]) for h in answer.passages],
            mode=answer.mode,
            lang=answer.lang,
            confidence=round(answer.confidence, 4),
            timings_ms=answer.timings_ms,
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
