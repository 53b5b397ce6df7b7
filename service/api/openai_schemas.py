"""The OpenAI chat-completions wire format, as far as silkqa speaks it, plus
silkqa's documented extras: ``citations`` (the same objects ``/v1/ask``
returns) and ``silkqa`` (abstention, mode, rewritten question, passages...)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from silkqa.service.api.schemas import AbstentionOut, CitationOut, CoverageOut, Passage, VerificationOut


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, ... are accepted and ignored

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # Sampling options (temperature, max_tokens, ...) are accepted and ignored:
    # answers are deterministic and verified.
    model_config = ConfigDict(extra="allow")

    model: str = Field(description='"silkqa" (the configured mode), "silkqa-extractive" or "silkqa-generative".')
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=100,
        description="The last message is the question (role user); earlier user and assistant messages are "
        "the conversation a follow-up is rewritten with. System messages are ignored.",
    )
    stream: bool = False
    top_k: int = Field(5, ge=1, description="silkqa extension: passages returned in `silkqa.passages`.")


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The answer, with [n] markers matching `citations[].marker`.")


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class SilkqaExtra(BaseModel):
    abstained: bool
    coverage: CoverageOut
    abstention: AbstentionOut | None
    mode: str
    lang: str
    confidence: float
    rewritten_question: str | None
    passages: list[Passage]
    timings_ms: dict[str, float]
    verification: VerificationOut | None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[CitationOut] = Field(description="silkqa extension: what each [n] in the content cites.")
    silkqa: SilkqaExtra = Field(description="silkqa extension: the rest of the /v1/ask response.")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "silkqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
