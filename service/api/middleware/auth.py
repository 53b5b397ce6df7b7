"""Authentication: 401 without a valid key, 403 when the key's role is below
what the route table (``service.api.policy``) says the request needs, and on
an open API (no keys) 403 for a write another site's page made the browser send."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from silkqa.service.api.errors import send_problem
from silkqa.service.api.policy import Role, policy
from silkqa.service.api.security import ANONYMOUS, KeyRing, bearer_token, browser_write_refusal

_CHALLENGE = 'Bearer realm="silkqa"'


class Authenticate:
    """401 without a valid key, 403 when the key's role is below the route's;
    otherwise records the caller as ``request.state.principal``."""

    def __init__(self, app: ASGIApp, keyring: KeyRing):
        self.app = app
        self.keyring = keyring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        needed = policy(scope["method"], scope["path"]).role
        state = scope.setdefault("state", {})
        if needed is None:
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if self.keyring.open:
            state["principal"] = ANONYMOUS
            if needed is Role.EDITOR and (refusal := browser_write_refusal(headers)):
                detail = (
                    f"{refusal}; this server has no API keys, so it takes changes only from its own page or non-browser clients"
                )
                return await send_problem(scope, receive, send, 403, "cross-site-write", "Forbidden", detail)
            return await self.app(scope, receive, send)
        token = bearer_token(headers)
        principal = self.keyring.authenticate(token) if token else None
        if principal is None:
            detail = "the API key is not valid" if token else "send an API key as 'Authorization: Bearer <key>'"
            challenge = _CHALLENGE + (', error="invalid_token"' if token else "")
            return await send_problem(
                scope, receive, send, 401, "unauthenticated", "Unauthenticated", detail, {"WWW-Authenticate": challenge}
            )
        state["principal"] = principal
        if principal.role < needed:
            detail = (
                f"key {principal.name!r} has the {principal.role.name.lower()} role; "
                f"{scope['method']} {scope['path']} needs {needed.name.lower()}"
            )
            return await send_problem(scope, receive, send, 403, "forbidden", "Forbidden", detail)
        await self.app(scope, receive, send)
