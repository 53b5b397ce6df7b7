"""Conversations, each its owner's (the API key's name; ``anonymous`` when
the API is open): create, list, read, rename, delete, export as Markdown. An
exchange is recorded by ``/v1/ask`` with a ``conversation_id`` (``recorder``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Query, Response
from sqlalchemy.exc import SQLAlchemyError

from silkqa.service.answering.types import Answer
from silkqa.service.api.checks import problem_responses
from silkqa.service.api.conversation_schemas import (
    ConversationCreate,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    ConversationRename,
)
from silkqa.service.api.deps import PrincipalDep, RuntimeDep
from silkqa.service.api.errors import ApiError
from silkqa.service.api.schemas import AskResponse
from silkqa.service.conversations.export import conversation_markdown, exchange_markdown
from silkqa.service.conversations.types import (
    CitedQuote,
    ConversationError,
    ConversationFull,
    Exchange,
    InvalidFeedback,
    UnknownConversation,
    UnknownTurn,
)
from silkqa.service.runtime import Runtime

router = APIRouter(tags=["conversations"])

T = TypeVar("T")
ERRORS = problem_responses(400, 404, 409, 422, 503)
_STATUS: list[tuple[type[Exception], int, str, str]] = [
    (UnknownConversation, 404, "unknown-conversation", "Unknown conversation"),
    (UnknownTurn, 404, "unknown-turn", "Unknown answer"),
    (ConversationFull, 409, "conversation-full", "Conversation full"),
    (InvalidFeedback, 422, "invalid-feedback", "Invalid feedback"),
    (ConversationError, 503, "conversations-unavailable", "Conversations unavailable"),
]


def stored(call: Callable[[], T]) -> T:
    """A call on the conversation store, its refusals as problem documents (a
    database that is down is the service's problem: 503, not 500)."""
    try:
        return call()
    except ConversationError as exc:
        status, slug, title = next((s, sl, t) for cls, s, sl, t in _STATUS if isinstance(exc, cls))
        raise ApiError(status, slug, title, str(exc)) from None
    except SQLAlchemyError:
        raise ApiError(
            503, "conversations-unavailable", "Conversations unavailable", "the conversation database cannot be reached"
        ) from None


def exchange_of(question: str, answer: Answer, response: AskResponse) -> Exchange:
    return Exchange(
        question=question,
        answer=response.answer,
        abstained=response.abstained,
        citations=tuple(CitedQuote(c.marker, c.doc_id, c.title, c.section, c.quote, c.start, c.end) for c in response.citations),
        build_id=answer.build_id,
        response=response.model_dump(mode="json"),
    )


def recorder(runtime: Runtime, owner: str, conversation_id: str, question: str) -> Callable[[Answer], AskResponse]:
    """The response of a finished answer, recorded first in the owner's
    conversation ``conversation_id``. The conversation is checked now, before
    any work, so an unknown or full one is refused at once and not halfway
    through a stream."""
    info = stored(lambda: runtime.conversations.conversation(owner, conversation_id).info)
    if info.turn_count >= runtime.settings.conversation_max_turns:
        detail = f"conversation {conversation_id!r} holds {info.turn_count} questions, the most it may: start a new one"
        raise ApiError(409, "conversation-full", "Conversation full", detail)

    def record(answer: Answer) -> AskResponse:
        response = AskResponse.of(answer)
        turn = stored(lambda: runtime.conversations.append(owner, conversation_id, exchange_of(question, answer, response)))
        return response.model_copy(update={"conversation_id": conversation_id, "turn_id": turn.turn_id})

    return record


@router.post("/v1/conversations", response_model=ConversationOut, status_code=201, responses=ERRORS)
def create(body: ConversationCreate, runtime: RuntimeDep, caller: PrincipalDep) -> ConversationOut:
    """Start a conversation; ask in it with `conversation_id` on `/v1/ask`."""
    return ConversationOut.of(stored(lambda: runtime.conversations.create(caller.name, body.title)))


@router.get("/v1/conversations", response_model=ConversationList, responses=ERRORS)
def conversations(
    runtime: RuntimeDep, caller: PrincipalDep, limit: int = Query(100, ge=1, le=500, description="Most to list.")
) -> ConversationList:
    """Your conversations, most recently used first."""
    found = stored(lambda: runtime.conversations.conversations(caller.name, limit))
    return ConversationList(conversations=[ConversationOut.of(c) for c in found])


@router.get("/v1/conversations/{conversation_id}", response_model=ConversationDetail, responses=ERRORS)
def conversation(conversation_id: str, runtime: RuntimeDep, caller: PrincipalDep) -> ConversationDetail:
    """A conversation of yours with every exchange as it was answered, and your feedback on each."""
    return ConversationDetail.of_conversation(stored(lambda: runtime.conversations.conversation(caller.name, conversation_id)))


@router.patch("/v1/conversations/{conversation_id}", response_model=ConversationOut, responses=ERRORS)
def rename(conversation_id: str, body: ConversationRename, runtime: RuntimeDep, caller: PrincipalDep) -> ConversationOut:
    return ConversationOut.of(stored(lambda: runtime.conversations.rename(caller.name, conversation_id, body.title)))


@router.delete("/v1/conversations/{conversation_id}", status_code=204, responses=ERRORS)
def delete(conversation_id: str, runtime: RuntimeDep, caller: PrincipalDep) -> Response:
    """Delete a conversation of yours. Feedback given on its answers is kept (with its copy of the answer)."""
    stored(lambda: runtime.conversations.delete(caller.name, conversation_id))
    return Response(status_code=204)


_MARKDOWN: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/markdown": {"schema": {"type": "string"}}}, "description": "Markdown"}
}


@router.get(
    "/v1/conversations/{conversation_id}/export",
    response_class=Response,
    responses={**ERRORS, **_MARKDOWN},
)
def export(
    conversation_id: str,
    runtime: RuntimeDep,
    caller: PrincipalDep,
    turn_id: int | None = Query(None, description="Only this answer (what the page's copy button copies)."),
) -> Response:
    """The conversation as Markdown: each answer with numbered footnotes giving
    the document, section and quote (exactly the document's text[start:end])."""
    found = stored(lambda: runtime.conversations.conversation(caller.name, conversation_id))
    if turn_id is None:
        text = conversation_markdown(found)
        name = f"conversation-{conversation_id}.md"
    else:
        turn = next((t for t in found.turns if t.turn_id == turn_id), None)
        if turn is None:
            raise ApiError(404, "unknown-turn", "Unknown answer", f"no answer {turn_id} in conversation {conversation_id!r}")
        text = exchange_markdown(turn.exchange)
        name = f"answer-{turn_id}.md"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text, media_type="text/markdown; charset=utf-8", headers=headers)
