"""How the answering pipeline tells whoever is serving the current request what
an answer cost (stage timings, abstention), without knowing who that is.

The HTTP layer sets an observer for each request; the pipeline calls
``report(answer)`` with each finished answer. A ContextVar carries the observer
into the worker thread that runs the pipeline, so concurrent requests (and
several apps in one process) never see each other's reports. Outside a request
(the CLI) nothing is observed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from silkqa.service.answering.types import Answer

AnswerObserver = Callable[["Answer"], None]

_observer: ContextVar[AnswerObserver | None] = ContextVar("silkqa_answer_observer", default=None)


def report(answer: Answer) -> None:
    observer = _observer.get()
    if observer is not None:
        observer(answer)


@contextmanager
def observing(observer: AnswerObserver) -> Iterator[None]:
    token = _observer.set(observer)
    try:
        yield
    finally:
        _observer.reset(token)
