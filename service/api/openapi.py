"""The published OpenAPI document: FastAPI's, plus what the middleware adds to
every operation, derived from the same rules the middleware enforces: the bearer
security scheme and the role an operation needs, the problem responses that
authentication (401, 403) and the limits (408, 413, 429, 503) can give, and the
configured bounds on ``top_k`` and question length. The document is also the
map of the API: which template a path belongs to, which methods it allows
(``documented_path``, read by the access log and the 405 Allow header)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from starlette.routing import compile_path

from silkqa.service.api.policy import Role, policy
from silkqa.service.settings import Settings

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem document.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string", "description": "Also in the X-Request-ID header and the server's log line."},
    },
}

BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key (`silkqa keygen`). Role `reader`: ask, search, read documents, chat; "
    "role `editor`: also add, replace and delete documents. Not required when the server has no keys configured.",
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _document(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})["bearer"] = BEARER
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            rules = policy(method.upper(), path)
            role = rules.role
            if role is None:
                operation["security"] = []
                continue
            operation["security"] = [{"bearer": []}]
            note = f"Requires an API key with the `{role.name.lower()}` role."
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", _problem("No API key, or not a valid one"))
            forbidden = "The API key's role may not do this"
            if role is Role.EDITOR:
                forbidden += "; or, on a server without keys, another site's page sent it"
            responses.setdefault("403", _problem(forbidden))
            responses.setdefault("429", _problem("The API key's rate limit is exhausted; see Retry-After"))
            if rules.api:
                responses.setdefault("503", _problem("Too many requests in progress; see Retry-After"))
            if "requestBody" in operation or rules.cpu_bound:
                responses.setdefault("413", _problem("The request body is over the size limit"))
                responses.setdefault("408", _problem(f"The request body did not arrive within {rules.body_seconds:g} s"))
            if role is Role.EDITOR:
                responses.setdefault(
                    "507", _problem("The server cannot write its data (disk full or read-only); nothing was changed")
                )


def _document_bounds(schema: dict[str, Any], settings: Settings) -> None:
    """The configured limits and answer modes, so a client (or a fuzzer) knows what is accepted."""
    for component in schema.get("components", {}).get("schemas", {}).values():
        properties = component.get("properties", {})
        if "top_k" in properties:
            properties["top_k"]["maximum"] = settings.top_k_max
        if "history" in properties:
            properties["history"]["maxItems"] = settings.max_history_turns
        if set(properties) == {"role", "content"} and "maxLength" in properties["content"]:  # a history turn
            properties["content"]["maxLength"] = settings.max_history_turn_chars
        for name in ("question", "query"):
            if name in properties:
                # \S: a blank question is refused, however long.
                properties[name].update(maxLength=settings.max_question_chars, pattern=r"\S")
        if "mode" in properties and settings.llm_backend == "none":  # no LLM: generative answers are refused
            for choice in [properties["mode"], *properties["mode"].get("anyOf", [])]:
                if "generative" in choice.get("enum", []):
                    choice["enum"] = [mode for mode in choice["enum"] if mode != "generative"]


def install(app: FastAPI, settings: Settings) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()  # FastAPI caches it in app.openapi_schema
            _document(schema)
            _document_bounds(schema, settings)
            return schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _paths(app: FastAPI) -> list[tuple[re.Pattern[str], str, list[str]]]:
    if getattr(app.state, "documented_paths", None) is None:
        app.state.documented_paths = [
            (compile_path(path)[0], path, [m.upper() for m in operations]) for path, operations in app.openapi()["paths"].items()
        ]
    paths: list[tuple[re.Pattern[str], str, list[str]]] = app.state.documented_paths
    return paths


def documented_path(app: FastAPI, path: str) -> tuple[str, list[str]] | None:
    """The path template ``path`` belongs to and its methods, if it is documented."""
    for pattern, template, methods in _paths(app):
        if pattern.fullmatch(path):
            return template, methods
    return None
