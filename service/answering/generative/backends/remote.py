"""The remote backend: any server speaking the OpenAI chat-completions protocol
(vLLM, Ollama, llama.cpp server, a hosted API), streamed over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx

from silkqa.service.answering.types import GenerationError, Messages


class RemoteGenerator:
    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))

    def stream(self, messages: Messages, max_tokens: int, cancel: threading.Event | None = None) -> Iterator[str]:
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True}
        try:
            with self._client.stream("POST", f"{self.base_url}/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise GenerationError(f"{self.base_url} answered {response.status_code}: {response.text[:300]}")
                for line in response.iter_lines():
                    if cancel is not None and cancel.is_set():
                        return
                    piece = _content_of(line)
                    if piece is None:
                        return
                    if piece:
                        yield piece
        except httpx.HTTPError as exc:
            raise GenerationError(f"{self.base_url}: {exc}") from exc


def _content_of(line: str) -> str | None:
    """The text in one server-sent line; None at the end of the stream."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as exc:
        raise GenerationError(f"unreadable stream chunk: {data[:200]}") from exc
    if "error" in chunk:
        raise GenerationError(f"the server reported: {chunk['error']}")
    choices = chunk.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""
