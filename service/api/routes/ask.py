"""Questions and searches: validate, call the question path, shape the response."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from silkqa.service.answering.types import Question, Turn
from silkqa.service.api import sse
from silkqa.service.api.checks import checked_history, checked_mode, checked_text, checked_top_k, problem_responses
from silkqa.service.api.deps import RuntimeDep, SnapshotDep
from silkqa.service.api.schemas import AskRequest, AskResponse, Passage, SearchRequest, SearchResponse

router = APIRouter(tags=["qa"])

ERRORS = problem_responses(400, 404, 422)


@router.post("/v1/ask", response_model=AskResponse, responses={**ERRORS, **sse.EVENT_STREAM_RESPONSE})
def ask(body: AskRequest, request: Request, runtime: RuntimeDep) -> AskResponse | StreamingResponse:
    """Answer a question with sentences cited to exact document spans, or abstain.
    A follow-up is first made standalone with `history`; with `stream` the answer
    comes as Server-Sent Events (`meta`, `delta`…, `citations`, `done`)."""
    settings, pipeline = runtime.settings, runtime.pipeline
    question = Question(
        text=checked_text(settings, body.question, "question"),
        top_k=checked_top_k(settings, body.top_k),
        history=checked_history(settings, [Turn(t.role, t.content) for t in body.history], "history"),
        mode=checked_mode(pipeline, body.mode),
    )
    if body.stream:
        return sse.event_stream(lambda cancel: sse.ask_events(pipeline.run(question, cancel), request.url.path))
    return AskResponse.of(pipeline.answer(question))


@router.post("/v1/search", response_model=SearchResponse, responses=ERRORS)
def search(body: SearchRequest, runtime: RuntimeDep, snapshot: SnapshotDep) -> SearchResponse:
    """Ranked passages for a query (hybrid BM25 + dense retrieval)."""
    settings = runtime.settings
    hits = snapshot.retriever.find(checked_text(settings, body.query, "query"), checked_top_k(settings, body.top_k))
    return SearchResponse(results=[Passage.of(h) for h in hits])
