"""Checks on request values that depend on the configuration (question length,
``top_k``, the history, the answer mode), shared by the question routes; each
failure is a 422 problem document."""

from __future__ import annotations

from typing import Any

from silkqa.service.answering.pipeline import AnswerPipeline
from silkqa.service.answering.types import Mode, ModeUnavailable, Turn
from silkqa.service.api.errors import ApiError
from silkqa.service.retrieval.types import Snapshot
from silkqa.service.settings import Settings

_PROBLEM: dict[str, Any] = {
    "model": dict,
    "content": {"application/problem+json": {}},
    "description": "Problem document (RFC 9457)",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry for routes that answer these codes with problems."""
    return {code: _PROBLEM for code in codes}


def checked_mode(pipeline: AnswerPipeline, mode: Mode | None) -> Mode:
    try:
        return pipeline.resolve_mode(mode)
    except ModeUnavailable as exc:
        raise ApiError(422, "mode-unavailable", "Mode unavailable", f"mode: {exc}") from None


def checked_text(settings: Settings, text: str, field: str) -> str:
    limit = settings.max_question_chars
    if not text.strip():
        raise ApiError(422, "invalid-request", "Invalid request", f"{field}: must not be blank")
    if len(text) > limit:
        raise ApiError(422, "invalid-request", "Invalid request", f"{field}: longer than the limit of {limit} characters")
    return text.strip()


def _history_problem(settings: Settings, history: list[Turn]) -> str | None:
    if len(history) > settings.max_history_turns:
        return f"at most {settings.max_history_turns} turns"
    long = [n for n, t in enumerate(history) if len(t.content) > settings.max_history_turn_chars]
    if long:
        return f"turn {long[0]} is longer than the limit of {settings.max_history_turn_chars} characters"
    return None


def checked_history(settings: Settings, history: list[Turn], field: str) -> tuple[Turn, ...]:
    """A conversation within the history limits (what follow-up rewriting
    reads; the rewritten question is held to the question's own limit)."""
    if problem := _history_problem(settings, history):
        raise ApiError(422, "invalid-request", "Invalid request", f"{field}: {problem}")
    return tuple(history)


def checked_top_k(settings: Settings, top_k: int) -> int:
    if top_k > settings.top_k_max:
        raise ApiError(422, "invalid-request", "Invalid request", f"top_k: at most {settings.top_k_max}")
    return top_k


def checked_doc_ids(snapshot: Snapshot, doc_ids: list[str] | None) -> tuple[str, ...] | None:
    """The documents a question is limited to, each one the library holds."""
    if doc_ids is None:
        return None
    known = {d.meta.doc_id for d in snapshot.documents()}
    if unknown := [d for d in doc_ids if d not in known]:
        raise ApiError(
            422, "unknown-document", "Unknown document", f"doc_ids: no document with id {', '.join(map(repr, unknown))}"
        )
    return tuple(dict.fromkeys(doc_ids))
