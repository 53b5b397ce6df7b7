"""The data of the conversations stage: a conversation and its recorded
exchanges (each question with the answer it got, kept as the client saw it),
the feedback people give on an answer, and the ways a request on them can be
refused. Everything here is owned by someone: the name of the API key that
made it (``anonymous`` when the service has no keys)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

Rating = Literal["up", "down"]


@dataclass(frozen=True)
class ConversationOptions:
    """Where conversations and feedback are kept (built from ``Settings``)."""

    url: str  # a SQLAlchemy database URL: sqlite:///… or postgresql+psycopg://…
    max_turns: int  # exchanges one conversation may hold


@dataclass(frozen=True)
class CitedQuote:
    """What an answer's ``[marker]`` cites: ``quote`` is the document's
    ``text[start:end]`` in the build the answer was read from."""

    marker: int
    doc_id: str
    title: str
    section: str  # the section path as shown, "四、组织保障 › （三）加强人才队伍建设"
    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class Exchange:
    """One question and the answer it got."""

    question: str
    answer: str
    abstained: bool
    citations: tuple[CitedQuote, ...]
    build_id: str
    # The whole response as the client received it (passages, coverage,
    # confidence, …), so the conversation can be shown again as it was.
    response: dict[str, Any]


@dataclass(frozen=True)
class FeedbackIn:
    """What someone says about an answer: a rating, the citations that do not
    support their sentence (by marker), a comment; at least one of them."""

    rating: Rating | None
    wrong_citations: tuple[int, ...]
    comment: str | None


@dataclass(frozen=True)
class Feedback:
    """Feedback as stored: a copy of the exchange it is about (which outlives
    the conversation being deleted) and what was said."""

    feedback_id: int
    owner: str
    turn_id: int | None  # None once its conversation was deleted
    exchange: Exchange
    given: FeedbackIn
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredTurn:
    turn_id: int
    conversation_id: str
    position: int  # 0, 1, … within the conversation
    exchange: Exchange
    created_at: datetime
    feedback: FeedbackIn | None  # the owner's, if given


@dataclass(frozen=True)
class ConversationInfo:
    conversation_id: str
    owner: str
    title: str
    created_at: datetime
    updated_at: datetime
    turn_count: int


@dataclass(frozen=True)
class Conversation:
    info: ConversationInfo
    turns: tuple[StoredTurn, ...]


class ConversationError(ValueError):
    """A request on conversations or feedback that cannot be done."""


class UnknownConversation(ConversationError):
    """No such conversation for this owner (another owner's is not told apart from none)."""


class UnknownTurn(ConversationError):
    """No such exchange in a conversation of this owner."""


class InvalidFeedback(ConversationError):
    """Feedback that says nothing, or flags a citation the answer does not have."""


class ConversationFull(ConversationError):
    """The conversation holds as many exchanges as it may."""


class ConversationStore(Protocol):
    """Conversations and feedback, each owner seeing only their own
    conversations; feedback is listed for everyone (the API lets editors)."""

    def create(self, owner: str, title: str) -> ConversationInfo: ...

    def conversations(self, owner: str, limit: int) -> list[ConversationInfo]:
        """The owner's conversations, most recently changed first."""
        ...

    def conversation(self, owner: str, conversation_id: str) -> Conversation: ...

    def rename(self, owner: str, conversation_id: str, title: str) -> ConversationInfo: ...

    def delete(self, owner: str, conversation_id: str) -> None:
        """The conversation and its exchanges; feedback on them stays (with its copy of the exchange)."""
        ...

    def append(self, owner: str, conversation_id: str, exchange: Exchange) -> StoredTurn: ...

    def give_feedback(self, owner: str, turn_id: int, given: FeedbackIn) -> Feedback:
        """Records the owner's feedback on one of their exchanges; given again, it replaces the earlier one."""
        ...

    def feedback(self, limit: int, offset: int = 0) -> list[Feedback]:
        """Everyone's feedback, newest first."""
        ...

    def close(self) -> None: ...
