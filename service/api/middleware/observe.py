"""Seeing what the service does: a request id on every request (echoed in the
``X-Request-ID`` header and in every problem document), Prometheus metrics per
route and status, and one structured JSON log line per request with its id,
route, status, duration, caller and question length. The question text itself
is logged only when ``SILKQA_LOG_QUESTIONS`` is on."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silkqa.service.answering import telemetry
from silkqa.service.api.logs import REQUEST_ID
from silkqa.service.api.metrics import Metrics
from silkqa.service.api.openapi import documented_path
from silkqa.service.api.policy import KNOWN_METHODS, policy

access_log = logging.getLogger("silkqa.access")

_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_PEEK_BYTES = 65536


def request_id(headers: Headers) -> str:
    """The caller's X-Request-ID when it is a sane token (so a proxy's id carries
    through), else a fresh one."""
    given = headers.get("x-request-id", "")
    return given if _CLIENT_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def question_of(body: bytes) -> str | None:
    """The question in an ask/search/chat request body, if it has one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # deeply nested arrays exhaust the parser's stack: not a question
        return None
    if not isinstance(data, dict):
        return None
    for field in ("question", "query"):
        if isinstance(value := data.get(field), str):
            return value
    messages = data.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user" and isinstance(content := message.get("content"), str):
                return content
    return None


def method_label(method: str) -> str:
    """The method as metrics and logs show it: any method the API does not know
    is "OTHER", so made-up methods cannot mint series or fill log lines."""
    return method if method in KNOWN_METHODS else "OTHER"


def route_template(scope: Scope) -> str:
    """The matched route's path template, or for a request refused before routing
    (401, 429, ...) the documented path it addresses; 'unmatched' for any other
    path, so scanners cannot mint new label values."""
    route = scope.get("route")
    if route is not None and isinstance(template := getattr(route, "path", None), str):
        return template
    found = documented_path(scope["app"], scope["path"])
    return found[0] if found else "unmatched"


class ObserveRequests:
    def __init__(self, app: ASGIApp, metrics: Metrics, log_questions: bool):
        self.app = app
        self.metrics = metrics
        self.log_questions = log_questions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = request_id(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500  # unless a response starts
        # A question's length is logged (its text only when configured).
        peek = bytearray() if policy(scope["method"], scope["path"]).question else None

        async def receive_peeking() -> Message:
            message = await receive()
            if peek is not None and message["type"] == "http.request" and len(peek) <= _PEEK_BYTES:
                peek.extend(message.get("body", b""))
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        self.metrics.in_flight.inc()
        context = REQUEST_ID.set(rid)  # every log record of this request carries its id
        try:
            with telemetry.observing(self.metrics.observe_answer):
                await self.app(scope, receive_peeking, send_with_id)
        finally:
            REQUEST_ID.reset(context)
            self.metrics.in_flight.dec()
            seconds = time.perf_counter() - started
            if scope["state"].get("client_gone") and status == 500:
                status = 499  # the client left before its request was complete: not the server's failure
            route = route_template(scope)
            self.metrics.observe_request(method_label(scope["method"]), route, status, seconds)
            question = question_of(bytes(peek)) if peek and len(peek) <= _PEEK_BYTES else None
            self._log(scope, rid, route, status, seconds, question)

    def _log(self, scope: Scope, rid: str, route: str, status: int, seconds: float, question: str | None) -> None:
        principal = scope["state"].get("principal")
        fields = {
            "request_id": rid,
            "method": method_label(scope["method"]),
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "key": principal.name if principal else None,
            "client": scope["client"][0] if scope.get("client") else None,
        }
        if question is not None:
            fields["question_chars"] = len(question)
            if self.log_questions:
                fields["question"] = question
        level = logging.ERROR if status >= 500 else logging.INFO
        access_log.log(
            level, "%s %s %d %.1fms", method_label(scope["method"]), route, status, seconds * 1000, extra={"fields": fields}
        )
