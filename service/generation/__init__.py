"""LLM backends for generative answers and follow-up rewriting, behind one
interface (``Generator``): any OpenAI-compatible server, or the local
Qwen2.5-Coder-0.5B-Instruct through transformers. ``open_generator`` gives the
configured one, loaded once per process."""

from __future__ import annotations

import threading

from service.generation.base import BackendUnavailable, GenerationError, Generator, Messages, complete
from service.settings import Settings

__all__ = ["BackendUnavailable", "GenerationError", "Generator", "Messages", "complete", "open_generator"]

_loaded: dict[tuple, Generator] = {}
_loading = threading.Lock()


def open_generator(settings: Settings) -> Generator | None:
    """The backend ``settings`` configure (None for ``llm_backend=none``); a
    model is loaded once however many apps or requests ask for it."""
    if settings.llm_backend == "none":
        return None
    key_value = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if settings.llm_backend == "openai":
        key = ("openai", settings.llm_base_url, settings.llm_model, key_value, settings.llm_timeout_seconds)
    else:
        key = ("local", str(settings.llm_model_dir), settings.llm_repetition_penalty)
    with _loading:
        if key not in _loaded:
            _loaded[key] = _open(settings, key_value)
        return _loaded[key]


def _open(settings: Settings, api_key: str | None) -> Generator:
    if settings.llm_backend == "openai":
        from service.generation.remote import RemoteGenerator

        if not settings.llm_model:
            raise BackendUnavailable("SILKQA_LLM_MODEL must name the model to use on the OpenAI-compatible server")
        return RemoteGenerator(settings.llm_base_url, settings.llm_model, api_key, settings.llm_timeout_seconds)
    from service.generation.local import LocalGenerator

    return LocalGenerator(settings.llm_model_dir, settings.llm_repetition_penalty)
