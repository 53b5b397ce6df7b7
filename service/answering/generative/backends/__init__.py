"""LLM backends for generative answers and follow-up rewriting, behind one
interface (``answering.types.Generator``): any OpenAI-compatible server
(``remote``), or the local Qwen2.5-Coder-0.5B-Instruct through transformers
(``local``, weights from ``weights``). ``open_generator`` gives the configured
one, loaded once per process."""

from __future__ import annotations

import threading
from dataclasses import astuple

from silkqa.service.answering.types import BackendOptions, BackendUnavailable, Generator, Messages

_loaded: dict[tuple[object, ...], Generator] = {}
_loading = threading.Lock()


def complete(generator: Generator, messages: Messages, max_tokens: int, cancel: threading.Event | None = None) -> str:
    """The whole completion as one string."""
    return "".join(generator.stream(messages, max_tokens, cancel))


def open_generator(options: BackendOptions) -> Generator | None:
    """The backend ``options`` configure (None for ``backend="none"``); a
    model is loaded once however many apps or requests ask for it."""
    if options.backend == "none":
        return None
    key = astuple(options)
    with _loading:
        if key not in _loaded:
            _loaded[key] = _open(options)
        return _loaded[key]


def _open(options: BackendOptions) -> Generator:
    if options.backend == "openai":
        from silkqa.service.answering.generative.backends.remote import RemoteGenerator

        if not options.model:
            raise BackendUnavailable("SILKQA_LLM_MODEL must name the model to use on the OpenAI-compatible server")
        return RemoteGenerator(options.base_url, options.model, options.api_key, options.timeout_seconds)
    from silkqa.service.answering.generative.backends.local import LocalGenerator

    return LocalGenerator(options.model_dir, options.repetition_penalty)
