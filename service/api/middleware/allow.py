"""A 405's Allow header lists every method the OpenAPI document has for the
path (the framework lists only those of the first router whose route matched)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silkqa.service.api.openapi import documented_path


class AllowHeader:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                found = documented_path(scope["app"], scope["path"])
                if found:
                    MutableHeaders(scope=message)["Allow"] = ", ".join(found[1])
            await send(message)

        await self.app(scope, receive, send_allow)
