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

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from index.tokens import count_tokens
from service.api import sse
from service.api.errors import ApiError
from service.api.openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatRequest,
    Choice,
    ModelCard,
    ModelList,
    SilkqaExtra,
    Usage,
)
from service.api.routes import _EVENT_STREAM, ERRORS, _asker, _checked_mode, _checked_text, _checked_top_k, _engine, _titles
from service.api.schemas import AskResponse
from service.followup import Turn
from service.pipeline import Asker, Delta, Event, Finished

router = APIRouter(tags=["openai"])

MODEL = "silkqa"
_MODES = {MODEL: None, f"{MODEL}-extractive": "extractive", f"{MODEL}-generative": "generative"}
_STARTED = int(time.time())


def _model_ids(asker: Asker) -> list[str]:
    return [MODEL] + [f"{MODEL}-{mode}" for mode in asker.modes()]


@router.get("/v1/models", response_model=ModelList)
def models(request: Request) -> ModelList:
    """The answer modes, as models: `silkqa` answers in the configured mode."""
    return ModelList(data=[ModelCard(id=m, created=_STARTED) for m in _model_ids(_asker(request))])


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


@router.post("/v1/chat/completions", response_model=ChatCompletion, responses={**ERRORS, **_EVENT_STREAM})
def chat_completions(body: ChatRequest, request: Request) -> ChatCompletion | StreamingResponse:
    """The last user message is the question, earlier messages the conversation.
    The content carries [n] markers; `citations` says what each one cites."""
    engine = _engine(request)
    asker = _asker(request)
    if body.model not in _MODES:  # silkqa-generative without an LLM gets the clearer 422 below
        raise ApiError(404, "unknown-model", "Unknown model", f"model: {body.model!r} is not one of {_model_ids(asker)}")
    text, history = _conversation(body)
    question = _checked_text(engine, text, "messages[-1].content")
    top_k = _checked_top_k(engine, body.top_k)
    mode = _checked_mode(asker, _MODES[body.model])
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:

        def produce(cancel: threading.Event) -> Iterator[str]:
            events = asker.events(question, top_k, history, mode, cancel)
            return _chunks(events, completion_id, body.model, lambda: _titles(engine), request.url.path)

        return sse.event_stream(produce)
    answer = asker.ask(question, top_k, history, mode)
    response = AskResponse.of(answer, _titles(engine))
    return ChatCompletion(
        id=completion_id,
        created=int(time.time()),
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=response.answer))],
        usage=_usage(question, history, response.answer),
        citations=response.citations,
        silkqa=_extra(response),
    )


def _chunks(events: Iterator[Event], completion_id: str, model: str, titles, instance: str) -> Iterator[str]:
    """OpenAI stream chunks: the role, the content deltas, then a final chunk
    with ``finish_reason`` and the citations; ``data: [DONE]`` ends it."""
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
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
                response = AskResponse.of(item.answer, titles())
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
