"""Request and response models of conversations and feedback (their names are
a contract, as in ``schemas``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from silkqa.service.conversations.types import (
    CitedQuote,
    Conversation,
    ConversationInfo,
    Feedback,
    FeedbackIn,
    StoredTurn,
)


class ConversationCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    title: str = Field("", max_length=200, description="Default: the first question.")


class ConversationRename(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    title: str = Field(..., min_length=1, max_length=200, pattern=r"\S")


class ConversationOut(BaseModel):
    conversation_id: str
    title: str = Field(description="Its first question until it is renamed.")
    created_at: datetime
    updated_at: datetime = Field(description="When it last got a question or a new title.")
    turn_count: int = Field(description="Questions asked in it.")

    @classmethod
    def of(cls, info: ConversationInfo) -> ConversationOut:
        return cls(
            conversation_id=info.conversation_id,
            title=info.title,
            created_at=info.created_at,
            updated_at=info.updated_at,
            turn_count=info.turn_count,
        )


class ConversationList(BaseModel):
    conversations: list[ConversationOut] = Field(description="Yours, most recently used first.")


class FeedbackGiven(BaseModel):
    rating: Literal["up", "down"] | None
    wrong_citations: list[int] = Field(description="Markers of the citations that do not support their sentence.")
    comment: str | None

    @classmethod
    def of(cls, given: FeedbackIn) -> FeedbackGiven:
        return cls(rating=given.rating, wrong_citations=list(given.wrong_citations), comment=given.comment)


class TurnOut(BaseModel):
    turn_id: int
    position: int
    question: str
    created_at: datetime
    build_id: str = Field(description="The library build the answer was read from.")
    response: dict[str, Any] = Field(description="The `/v1/ask` response exactly as it was given.")
    feedback: FeedbackGiven | None = Field(description="Your feedback on this answer, if you gave any.")

    @classmethod
    def of(cls, turn: StoredTurn) -> TurnOut:
        return cls(
            turn_id=turn.turn_id,
            position=turn.position,
            question=turn.exchange.question,
            created_at=turn.created_at,
            build_id=turn.exchange.build_id,
            # Recorded before its ids were known: given back with them, as the client got it.
            response={**turn.exchange.response, "conversation_id": turn.conversation_id, "turn_id": turn.turn_id},
            feedback=FeedbackGiven.of(turn.feedback) if turn.feedback else None,
        )


class ConversationDetail(ConversationOut):
    turns: list[TurnOut]

    @classmethod
    def of_conversation(cls, conversation: Conversation) -> ConversationDetail:
        return cls(**ConversationOut.of(conversation.info).model_dump(), turns=[TurnOut.of(t) for t in conversation.turns])


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    turn_id: int = Field(..., description="The answer, as `turn_id` of a `/v1/ask` response recorded in your conversation.")
    rating: Literal["up", "down"] | None = Field(None, description="👍 or 👎.")
    wrong_citations: list[int] = Field(
        default_factory=list, max_length=50, description="Markers of citations that do not support the sentence they end."
    )
    comment: str | None = Field(None, max_length=2000)


class CitedQuoteOut(BaseModel):
    marker: int
    doc_id: str
    title: str
    section: str
    quote: str = Field(description="The document's text[start:end] in the build the answer was read from.")
    start: int
    end: int

    @classmethod
    def of(cls, c: CitedQuote) -> CitedQuoteOut:
        return cls(marker=c.marker, doc_id=c.doc_id, title=c.title, section=c.section, quote=c.quote, start=c.start, end=c.end)


class FeedbackOut(FeedbackGiven):
    feedback_id: int
    owner: str = Field(description="The name of the API key that gave it (`anonymous` when the API is open).")
    turn_id: int | None = Field(description="The answer it is about (null once its conversation was deleted).")
    question: str
    answer: str
    abstained: bool
    citations: list[CitedQuoteOut]
    build_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of_feedback(cls, f: Feedback) -> FeedbackOut:
        e = f.exchange
        return cls(
            **FeedbackGiven.of(f.given).model_dump(),
            feedback_id=f.feedback_id,
            owner=f.owner,
            turn_id=f.turn_id,
            question=e.question,
            answer=e.answer,
            abstained=e.abstained,
            citations=[CitedQuoteOut.of(c) for c in e.citations],
            build_id=e.build_id,
            created_at=f.created_at,
            updated_at=f.updated_at,
        )


class FeedbackList(BaseModel):
    feedback: list[FeedbackOut] = Field(description="Newest first.")
