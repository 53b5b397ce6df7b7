"""What every LLM backend offers: a chat completion, streamed as text pieces."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol


class GenerationError(RuntimeError):
    """The backend failed to produce text (unreachable server, bad reply, model error)."""


class BackendUnavailable(RuntimeError):
    """The configured backend cannot be used here (missing extra, bad model files)."""


Messages = list[dict[str, str]]  # [{"role": "system" | "user" | "assistant", "content": ...}]


class Generator(Protocol):
    name: str  # shown in responses, e.g. "local:qwen2.5-coder-0.5b-instruct-q4_k_m"

    def stream(self, messages: Messages, max_tokens: int, cancel: threading.Event | None = None) -> Iterator[str]:
        """Text pieces of a greedy (deterministic) completion. Setting ``cancel``
        stops the generation after the current token; closing the iterator does too."""
        ...


def complete(generator: Generator, messages: Messages, max_tokens: int, cancel: threading.Event | None = None) -> str:
    return "".join(generator.stream(messages, max_tokens, cancel))
