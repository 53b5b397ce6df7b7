"""Routes: validate, call the engine, shape the response. Nothing else."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from service.api import sse
from service.api.errors import ApiError
from service.api.schemas import (
    AskRequest,
    AskResponse,
    DocumentDetail,
    DocumentInfo,
    DocumentList,
    Health,
    Passage,
    SearchRequest,
    SearchResponse,
)
from service.engine import QAEngine, UnknownDocument
from service.followup import Turn
from service.pipeline import Asker, ModeUnavailable

router = APIRouter()

_PROBLEM = {"model": dict, "content": {"application/problem+json": {}}, "description": "Problem document (RFC 9457)"}
ERRORS = {400: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM}


def _engine(request: Request) -> QAEngine:
    return request.app.state.engine


def _asker(request: Request) -> Asker:
    return Asker(_engine(request), getattr(request.app.state, "generator", None))


def _checked_mode(asker: Asker, mode: str | None) -> str:
    try:
        return asker.resolve_mode(mode)
    except ModeUnavailable as exc:
        raise ApiError(422, "mode-unavailable", "Mode unavailable", f"mode: {exc}") from None


def _checked_text(engine: QAEngine, text: str, field: str) -> str:
    limit = engine.settings.max_question_chars
    if not text.strip():
        raise ApiError(422, "invalid-request", "Invalid request", f"{field}: must not be blank")
    if len(text) > limit:
        raise ApiError(422, "invalid-request", "Invalid request", f"{field}: longer than the limit of {limit} characters")
    return text.strip()


def _checked_top_k(engine: QAEngine, top_k: int) -> int:
    if top_k > engine.settings.top_k_max:
        raise ApiError(422, "invalid-request", "Invalid request", f"top_k: at most {engine.settings.top_k_max}")
    return top_k


def _titles(engine: QAEngine) -> dict[str, str]:
    return {d.meta.doc_id: d.meta.title for d in engine.documents()}


# The schema of each event (as OpenAPI tools read a text/event-stream schema): an event name and its JSON data.
_SSE_EVENT = {"type": "object", "required": ["data"], "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}
_EVENT_STREAM = {200: {"content": {sse.EVENT_STREAM: {"schema": _SSE_EVENT}}, "description": "The answer"}}


@router.post("/v1/ask", response_model=AskResponse, responses={**ERRORS, **_EVENT_STREAM}, tags=["qa"])
def ask(body: AskRequest, request: Request) -> AskResponse | StreamingResponse:
    """Answer a question with sentences cited to exact document spans, or abstain.
    A follow-up is first made standalone with `history`; with `stream` the answer
    comes as Server-Sent Events (`meta`, `delta`…, `citations`, `done`)."""
    engine = _engine(request)
    question = _checked_text(engine, body.question, "question")
    top_k = _checked_top_k(engine, body.top_k)
    asker = _asker(request)
    mode = _checked_mode(asker, body.mode)
    history = [Turn(t.role, t.content) for t in body.history]
    if body.stream:
        return sse.event_stream(
            lambda cancel: sse.ask_events(
                asker.events(question, top_k, history, mode, cancel), lambda: _titles(engine), request.url.path
            )
        )
    return AskResponse.of(asker.ask(question, top_k, history, mode), _titles(engine))


@router.post("/v1/search", response_model=SearchResponse, responses=ERRORS, tags=["qa"])
def search(body: SearchRequest, request: Request) -> SearchResponse:
    """Ranked passages for a query (hybrid BM25 + dense retrieval)."""
    engine = _engine(request)
    hits = engine.search(_checked_text(engine, body.query, "query"), _checked_top_k(engine, body.top_k))
    titles = _titles(engine)
    return SearchResponse(results=[Passage.of(h, titles[h.chunk.doc_id]) for h in hits])


@router.get("/v1/documents", response_model=DocumentList, tags=["documents"])
def documents(request: Request) -> DocumentList:
    engine = _engine(request)
    return DocumentList(documents=[DocumentInfo.of(d, engine.chunk_count(d.meta.doc_id)) for d in engine.documents()])


@router.get("/v1/documents/{doc_id}", response_model=DocumentDetail, responses=ERRORS, tags=["documents"])
def document(doc_id: str, request: Request) -> DocumentDetail:
    """Metadata and cleaned text, so a client can highlight a citation span."""
    engine = _engine(request)
    try:
        doc = engine.document(doc_id)
    except UnknownDocument:
        raise ApiError(404, "unknown-document", "Unknown document", f"no document with id {doc_id!r}") from None
    info = DocumentInfo.of(doc, engine.chunk_count(doc_id))
    return DocumentDetail(**info.model_dump(), text=doc.text, offset_map=doc.offsets.to_json())


@router.get("/healthz", response_model=Health, tags=["ops"])
def healthz(request: Request) -> Health:
    engine = _engine(request)
    m = engine.index.manifest
    return Health(
        status="ok",
        documents=m.document_count,
        chunks=m.chunk_count,
        model=engine.embedder.identity.name,
        index_built_at=m.built_at,
    )
