"""Every error is an RFC 9457 problem document (type, title, status, detail);
nothing a client sends can produce a 500, and no stack trace leaves the server."""

from __future__ import annotations

import errno
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

log = logging.getLogger("silkqa.api")

# A full disk, a quota, a file-size limit, a read-only or unwritable data
# directory: the server's fault, and the operator's to fix.
_STORAGE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_STORAGE_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """An error the API reports as a problem document."""

    def __init__(self, status: int, slug: str, title: str, detail: str):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    request: Request,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    # Set by the observability middleware, so a client's report can be matched with the server's log line.
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
        headers = {"X-Request-ID": request_id, **(headers or {})}  # a 500 is sent outside that middleware
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, Any] | None = None,
) -> None:
    """Answer with a problem document from ASGI middleware, before any route runs."""
    await problem(status, slug, title, detail, Request(scope), headers=headers)(scope, receive, send)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part != "body"]
        out.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid"), "type": err.get("type", "")})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.slug, exc.title, exc.detail, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(400, "malformed-json", "Malformed JSON", "The request body is not valid JSON.", request)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "invalid-request", "Invalid request", detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Content too large"}
        title = titles.get(exc.status_code, "HTTP error")
        return problem(exc.status_code, title.lower().replace(" ", "-"), title, str(exc.detail), request, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged outside the request's middleware, so its id is given here.
        fields = {"request_id": getattr(request.state, "request_id", None)}
        log.exception("unhandled error on %s", request.url.path, extra={"fields": fields})
        return problem(500, "internal-error", "Internal error", "The server failed to handle this request.", request)

    @app.exception_handler(OSError)
    async def _storage(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno not in _STORAGE_FULL | _STORAGE_READ_ONLY:
            return await _unexpected(request, exc)
        fields = {"request_id": getattr(request.state, "request_id", None)}
        log.error("cannot write on %s: %s", request.url.path, exc, extra={"fields": fields})
        # Index builds are published atomically, so a failed write leaves the live index as it was.
        detail = f"the server cannot write its data ({exc.strerror}); nothing was changed"
        return problem(507, "insufficient-storage", "Insufficient storage", detail, request)
