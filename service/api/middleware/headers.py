"""Headers every response gets: ``X-Content-Type-Options: nosniff`` (a browser
never reads a JSON answer or an uploaded text as a script or a page), and for
API responses ``Cache-Control: no-store`` (answers and documents may be a key
holder's, so no shared or browser cache keeps them). A route that says
otherwise (the web page's files revalidate) keeps its own."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silkqa.service.api.policy import policy


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        api = policy(scope["method"], scope["path"]).api

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if api:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
