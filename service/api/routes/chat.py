"""OpenAI-compatible routes, so a chatbot built on the OpenAI protocol can use
silkqa as its backend: ``POST /v1/chat/completions`` (streamed or not) and
``GET /v1/models``. The answer is the one ``/v1/ask`` gives (the same pipeline
events); its citations travel in the extra ``citations`` field, of the response
or of the final stream chunk."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from silkqa.index.ingest.tokens import count_tokens
from silkqa.service.answering.pipeline import AnswerPipeline
from silkqa.service.answering.types import Delta, Event, Finished, Mode, Question, Turn
from silkqa.service.api import sse
from silkqa.service.api.checks import checked_history, checked_mode, checked_text, checked_top_k, problem_responses
from silkqa.service.api.deps import RuntimeDep
from silkqa.service.api.errors import ApiError
from silkqa.service.api.openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatRequest,
    Choice,
    ModelCard,
    ModelList,
    SilkqaExtra,
    Usage,
)
from silkqa.service.api.schemas import AskResponse

router = APIRouter(tags=["openai"])

MODEL = "silkqa"
ERRORS = problem_responses(400, 404, 422)
_MODES: dict[str, Mode | None] = {MODEL: None, f"{MODEL}-extractive": "extractive", f"{MODEL}-generative": "generative"}
_STARTED = int(time.time())


def _model_ids(pipeline: AnswerPipeline) -> list[str]:
    return [MODEL] + [f"{MODEL}-{mode}" for mode in pipeline.modes()]


@router.get("/v1/models", response_model=ModelList)
def models(runtime: RuntimeDep) -> ModelList:
    """The answer modes, as models: `silkqa` answers in the configured mode."""
    return ModelList(data=[ModelCard(id=m, created=_STARTED) for m in _model_ids(runtime.pipeline)])


def _conversation(body: ChatRequest) -> tuple[str, list[Turn]]:
    last = body.messages[-1]
    if last.role != "user":
        raise ApiError(422, "invalid-request", "Invalid request", "messages: the last message must be the user's question")
    history = [Turn(m.role, m.text()) for m in body.messages[:-1] if m.role in ("user", "assistant") and m.text().strip()]
    return last.text(), history


def _extra(response: AskResponse) -> SilkqaExtra:
    return SilkqaExtra(**response.model_dump(include=set(SilkqaExtra.model_fields)))


def _usage(question: str, history: list[Turn], answer: str) -> Usage:
    prompt = count_tokens(question) + sum(count_tokens(t.content) for t in history)
    completion = count_tokens(answer)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


@router.post("/v1/chat/completions", response_model=ChatCompletion, responses={**ERRORS, **sse.EVENT_STREAM_RESPONSE})
def chat_completions(body: ChatRequest, request: Request, runtime: RuntimeDep) -> ChatCompletion | StreamingResponse:
    """The last user message is the question, earlier messages the conversation.
    The content carries [n] markers; `citations` says what each one cites."""
    settings, pipeline = runtime.settings, runtime.pipeline
    if body.model not in _MODES:  # silkqa-generative without an LLM gets the clearer 422 below
        raise ApiError(404, "unknown-model", "Unknown model", f"model: {body.model!r} is not one of {_model_ids(pipeline)}")
    text, history = _conversation(body)
    question = Question(
        text=checked_text(settings, text, "messages[-1].content"),
        top_k=checked_top_k(settings, body.top_k),
        history=checked_history(settings, history, "messages"),
        mode=checked_mode(pipeline, _MODES[body.model]),
    )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:

        def produce(cancel: threading.Event) -> Iterator[str]:
            return _chunks(pipeline.run(question, cancel), completion_id, body.model, request.url.path)

        return sse.event_stream(produce)
    response = AskResponse.of(pipeline.answer(question))
    return ChatCompletion(
        id=completion_id,
        created=int(time.time()),
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=response.answer))],
        usage=_usage(question.text, history, response.answer),
        citations=response.citations,
        silkqa=_extra(response),
    )


def _chunks(events: Iterator[Event], completion_id: str, model: str, instance: str) -> Iterator[str]:
    """OpenAI stream chunks: the role, the content deltas, then a final chunk
    with ``finish_reason`` and the citations; ``data: [DONE]`` ends it."""
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return sse.event(None, body)

    try:
        yield chunk({"role": "assistant", "content": ""})
        for item in events:
            if isinstance(item, Delta):
                yield chunk({"content": item.text})
            elif isinstance(item, Finished):
                response = AskResponse.of(item.answer)
                yield chunk(
                    {},
                    "stop",
                    citations=[c.model_dump() for c in response.citations],
                    silkqa=_extra(response).model_dump(),
                )
    except Exception as exc:  # the status line is gone: report in-band, as OpenAI servers do
        sse.log.exception("chat stream failed")
        problem = sse.problem_of(exc, instance)
        yield sse.event(None, {"error": {"message": problem["detail"], "type": problem["type"], **problem}})
    yield sse.event(None, "[DONE]")
