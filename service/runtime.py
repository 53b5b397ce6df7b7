"""What every entry point serves from, wired once: the settings, the live
library, the question path over it, the library editor and the conversation
store. The API, the CLI and the in-process eval each open one ``Runtime`` and
go through it, so they answer the same way."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from silkqa.index.store.embedding import Embedder
from silkqa.service.answering.generative.backends import open_generator
from silkqa.service.answering.pipeline import AnswerPipeline
from silkqa.service.answering.types import Generator
from silkqa.service.conversations.store import SqlConversationStore
from silkqa.service.conversations.types import ConversationStore
from silkqa.service.library.editor import LibraryEditor
from silkqa.service.library.live import LiveLibrary
from silkqa.service.settings import Settings


@dataclass
class Runtime:
    library: LiveLibrary
    generator: Generator | None = None
    pipeline: AnswerPipeline = field(init=False)
    editor: LibraryEditor = field(init=False)
    _conversations: ConversationStore | None = field(init=False, default=None)
    _opening: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pipeline = AnswerPipeline(self.library, self.settings.answering_options(), self.generator)
        self.editor = LibraryEditor(self.library)

    @property
    def conversations(self) -> ConversationStore:
        """Opened on first use, so `silkqa ask` or `add` never needs the
        database; `silkqa serve` opens it at start-up (ConversationError if it cannot)."""
        with self._opening:
            if self._conversations is None:
                self._conversations = SqlConversationStore.open(self.settings.conversation_options())
            return self._conversations

    @property
    def settings(self) -> Settings:
        return self.library.settings

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Runtime:
        """The library in ``settings.index_dir`` (built first when it must be)
        and the configured LLM backend, if any. Raises IndexUnusable,
        ModelUnavailable or BackendUnavailable with the reason."""
        return cls(LiveLibrary.open(settings, embedder), open_generator(settings.backend_options()))
