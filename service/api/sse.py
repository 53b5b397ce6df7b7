"""Server-Sent Events responses that stop their work when the client leaves.

The events come from a plain iterator (the pipeline runs in worker threads).
When the client disconnects, Starlette cancels the response; the ``cancel``
flag is then set and the iterator closed, so an LLM generation stops after its
current token instead of running to its token limit for nobody."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict
from typing import Any

import anyio
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool
from starlette.types import Receive, Scope, Send

from silkqa.service.answering.types import Answer, Delta, Event, Started
from silkqa.service.api.errors import ApiError
from silkqa.service.api.schemas import AskResponse

log = logging.getLogger("silkqa.api")

EVENT_STREAM = "text/event-stream"
# The schema of each event (as OpenAPI tools read a text/event-stream schema): an event name and its JSON data.
_SSE_EVENT = {"type": "object", "required": ["data"], "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}
EVENT_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {EVENT_STREAM: {"schema": _SSE_EVENT}}, "description": "The answer"}
}


def event(name: str | None, data: dict[str, Any] | str) -> str:
    """One SSE event; ``name`` None gives a bare ``data:`` line (the OpenAI chunk format)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return (f"event: {name}\n" if name else "") + f"data: {payload}\n\n"


def problem_of(exc: Exception, instance: str) -> dict[str, Any]:
    """The problem document for a failure after the stream has started."""
    if isinstance(exc, ApiError):
        status, slug, title, detail = exc.status, exc.slug, exc.title, exc.detail
    else:
        status, slug, title, detail = 500, "internal-error", "Internal error", "The server failed to finish this answer."
    return {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail, "instance": instance}


async def _cancellable(produce: Callable[[threading.Event], Iterator[str]], cancel: threading.Event) -> AsyncIterator[str]:
    chunks = produce(cancel)
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        cancel.set()
        close = getattr(chunks, "close", None)
        if close is not None:
            # Shielded: this runs while the response is being cancelled.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(close)


class CancellableStream(StreamingResponse):
    """An event stream that notices the client leaving even while it has
    nothing to send. Starlette, on an ASGI server of spec 2.4 (uvicorn), learns
    of a disconnect only when a write fails; a generation still on a sentence
    the verifier has not released writes nothing, and would run to its token
    limit for nobody. Here the disconnect itself sets ``cancel``."""

    def __init__(self, produce: Callable[[threading.Event], Iterator[str]], cancel: threading.Event, **kwargs: Any):
        super().__init__(_cancellable(produce, cancel), **kwargs)
        self.cancel = cancel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(stop: anyio.CancelScope) -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            self.cancel.set()  # first: the worker thread stops after its current token
            stop.cancel()

        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(watch, tasks.cancel_scope)
                await self.stream_response(send)
                tasks.cancel_scope.cancel()
        except OSError:  # the client went away mid-write
            self.cancel.set()
        if self.background is not None:
            await self.background()


def event_stream(produce: Callable[[threading.Event], Iterator[str]]) -> StreamingResponse:
    """``produce(cancel)`` yields encoded events; ``cancel`` is set if the client goes away."""
    return CancellableStream(
        produce,
        threading.Event(),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def ask_events(
    events: Iterator[Event], instance: str, respond: Callable[[Answer], AskResponse] = AskResponse.of
) -> Iterator[str]:
    """``/v1/ask`` as SSE: ``meta``, ``delta``…, ``citations`` (exactly the
    non-streaming response's), ``done``; ``error`` with a problem document if
    the answer fails after the stream began. ``respond`` makes the response of
    the finished answer (recording it first, when the request asked for that)."""
    try:
        for item in events:
            if isinstance(item, Started):
                yield event("meta", asdict(item))
            elif isinstance(item, Delta):
                yield event("delta", {"text": item.text})
            else:
                response = respond(item.answer)
                yield event(
                    "citations", response.model_dump(include={"abstained", "coverage", "abstention", "citations", "passages"})
                )
                yield event(
                    "done",
                    response.model_dump(
                        include={
                            "timings_ms",
                            "confidence",
                            "mode",
                            "rewritten_question",
                            "verification",
                            "conversation_id",
                            "turn_id",
                        }
                    ),
                )
    except Exception as exc:  # the status line is gone: report in-band
        log.exception("answer stream failed")
        yield event("error", problem_of(exc, instance))
