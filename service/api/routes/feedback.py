"""Feedback on answers: anyone who may ask may say an answer was right or
wrong, flag a citation that does not support its sentence, and comment;
editors list it all (and `silkqa feedback export` turns it into eval lines)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from silkqa.service.api.checks import problem_responses
from silkqa.service.api.conversation_schemas import FeedbackList, FeedbackOut, FeedbackRequest
from silkqa.service.api.deps import PrincipalDep, RuntimeDep
from silkqa.service.api.routes.conversations import stored
from silkqa.service.conversations.types import FeedbackIn

router = APIRouter(tags=["feedback"])


@router.post("/v1/feedback", response_model=FeedbackOut, responses=problem_responses(400, 404, 422, 503))
def give(body: FeedbackRequest, request: Request, runtime: RuntimeDep, caller: PrincipalDep) -> FeedbackOut:
    """Feedback on an answer recorded in one of your conversations (its
    `turn_id`); given again, it replaces your earlier feedback on that answer.
    Stored with a copy of the question, answer, citations and build id."""
    given = FeedbackIn(rating=body.rating, wrong_citations=tuple(body.wrong_citations), comment=body.comment)
    feedback = stored(lambda: runtime.conversations.give_feedback(caller.name, body.turn_id, given))
    request.app.state.metrics.observe_feedback(feedback.given)
    return FeedbackOut.of_feedback(feedback)


@router.get("/v1/feedback", response_model=FeedbackList, responses=problem_responses(422, 503))
def listing(
    runtime: RuntimeDep,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> FeedbackList:
    """Everyone's feedback, newest first."""
    found = stored(lambda: runtime.conversations.feedback(limit, offset))
    return FeedbackList(feedback=[FeedbackOut.of_feedback(f) for f in found])
