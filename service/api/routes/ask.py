"""Questions and searches: validate, call the question path, shape the response."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from silkqa.service.answering.types import Question, Turn
from silkqa.service.api import sse
from silkqa.service.api.checks import (
    checked_doc_ids,
    checked_history,
    checked_mode,
    checked_text,
    checked_top_k,
    problem_responses,
)
from silkqa.service.api.deps import PrincipalDep, RuntimeDep, SnapshotDep
from silkqa.service.api.routes.conversations import recorder
from silkqa.service.api.schemas import AskRequest, AskResponse, Passage, SearchRequest, SearchResponse

router = APIRouter(tags=["qa"])

ERRORS = problem_responses(400, 404, 422)


@router.post(
    "/v1/ask", response_model=AskResponse, responses={**ERRORS, **problem_responses(409, 503), **sse.EVENT_STREAM_RESPONSE}
)
def ask(
    body: AskRequest, request: Request, runtime: RuntimeDep, snapshot: SnapshotDep, caller: PrincipalDep
) -> AskResponse | StreamingResponse:
    """Answer a question with sentences cited to exact document spans, or abstain.
    A follow-up is first made standalone with `history`; with `stream` the answer
    comes as Server-Sent Events (`meta`, `delta`…, `citations`, `done`). With
    `conversation_id` the exchange is recorded in that conversation of yours."""
    settings, pipeline = runtime.settings, runtime.pipeline
    question = Question(
        text=checked_text(settings, body.question, "question"),
        top_k=checked_top_k(settings, body.top_k),
        history=checked_history(settings, [Turn(t.role, t.content) for t in body.history], "history"),
        mode=checked_mode(pipeline, body.mode),
        doc_ids=checked_doc_ids(snapshot, body.doc_ids),
    )
    respond = recorder(runtime, caller.name, body.conversation_id, question.text) if body.conversation_id else AskResponse.of
    if body.stream:
        return sse.event_stream(lambda cancel: sse.ask_events(pipeline.run(question, cancel), request.url.path, respond))
    return respond(pipeline.answer(question))


@router.post("/v1/search", response_model=SearchResponse, responses=ERRORS)
def search(body: SearchRequest, runtime: RuntimeDep, snapshot: SnapshotDep) -> SearchResponse:
    """Ranked passages for a query (hybrid BM25 + dense retrieval), of the `doc_ids` documents only when given."""
    settings = runtime.settings
    doc_ids = checked_doc_ids(snapshot, body.doc_ids)
    hits = snapshot.retriever.find(
        checked_text(settings, body.query, "query"),
        checked_top_k(settings, body.top_k),
        frozenset(doc_ids) if doc_ids is not None else None,
    )
    return SearchResponse(results=[Passage.of(h) for h in hits])
