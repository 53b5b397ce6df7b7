"""Conversations and feedback in the forms people take them away in: Markdown
with numbered footnotes (what an analyst pastes into a report), and feedback
as lines of the evaluation set format (eval/README.md), for a maintainer to
review and add to the development set."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from silkqa.index.language import MARKER, language_of
from silkqa.service.conversations.types import CitedQuote, Conversation, Exchange, Feedback


def footnote(number: int, citation: CitedQuote) -> str:
    """``[^n]:`` with the document, section and place of the quote, then the
    quote itself, exactly ``text[start:end]`` (lines after the first indented,
    as Markdown continues a footnote)."""
    where = f"《{citation.title}》" + (f" {citation.section}" if citation.section else "")
    quote = citation.quote.replace("\n", "\n    ")
    return f"[^{number}]: {where} ({citation.doc_id}, characters {citation.start}–{citation.end}):\n    “{quote}”"


def with_footnotes(exchange: Exchange, first: int = 1) -> tuple[str, list[str]]:
    """The answer with each ``[n]`` as a footnote reference numbered from
    ``first``, and the footnotes; a marker without a citation stays as it was."""
    by_marker = {c.marker: c for c in exchange.citations}
    numbers: dict[int, int] = {}
    notes: list[str] = []

    def reference(marker: int) -> str:
        if marker not in numbers:
            numbers[marker] = first + len(numbers)
            notes.append(footnote(numbers[marker], by_marker[marker]))
        return f"[^{numbers[marker]}]"

    def replace(match: re.Match[str]) -> str:
        cited = [int(n) for n in re.split(r"[,，、]", match.group(1))]
        if not all(n in by_marker for n in cited):
            return match.group(0)
        return "".join(reference(n) for n in cited)

    return MARKER.sub(replace, exchange.answer), notes


def exchange_markdown(exchange: Exchange) -> str:
    """One question and its answer, footnoted from 1: what the copy button copies."""
    text, notes = with_footnotes(exchange)
    return "\n\n".join([f"**{exchange.question}**", text, *notes]) + "\n"


def conversation_markdown(conversation: Conversation) -> str:
    """The whole conversation, its footnotes numbered through from 1."""
    info = conversation.info
    parts = [f"# {info.title or 'Conversation'}", f"_{info.created_at:%Y-%m-%d %H:%M} UTC · {info.turn_count} questions_"]
    notes: list[str] = []
    for n, turn in enumerate(conversation.turns, 1):
        text, more = with_footnotes(turn.exchange, len(notes) + 1)
        parts += [f"## {n}. {turn.exchange.question}", text]
        notes += more
    return "\n\n".join(parts + notes) + "\n"


def eval_item(feedback: Feedback) -> dict[str, Any]:
    """One line of the evaluation set format for a piece of feedback.

    What the feedback settles is filled in; what it leaves open is listed
    under ``review`` for the maintainer. An answer rated up (or not rated, with
    only some citations flagged) is answerable, and the citations not flagged
    are its gold quotes; an abstention rated up is unanswerable; an
    abstention rated down says the documents do answer it (answerable, gold to
    be found); an answer rated down is taken as one the service should have
    abstained on until the maintainer finds the passage that answers it."""
    exchange, given = feedback.exchange, feedback.given
    flagged = set(given.wrong_citations)
    kept = [c for c in exchange.citations if c.marker not in flagged]
    review: list[str] = []
    if exchange.abstained:
        answerable = given.rating == "down"
        if answerable:
            review.append("rated down although the service abstained: add the gold quotes that answer it")
    elif given.rating == "down":
        answerable = False
        review.append("the answer was rated wrong: if the documents do answer it, set answerable and add the gold quotes")
    else:
        answerable = True
        if flagged:
            review.append(f"citations {sorted(flagged)} were flagged as not supporting their sentence and left out of gold")
        if not kept:
            review.append("no citation was left to serve as gold: add the gold quotes")
    gold = [{"doc": c.doc_id, "quote": c.quote} for c in kept] if answerable else []
    if answerable and gold:
        review.append("add must_contain key strings from the gold quotes")
    return {
        "id": f"feedback-{feedback.feedback_id}",
        "lang": language_of(exchange.question),
        "question": exchange.question,
        "answerable": answerable,
        "gold": gold,
        "answer": exchange.answer if answerable and given.rating == "up" else "",
        "must_contain": [],
        "source": "feedback",
        "feedback": {
            "rating": given.rating,
            "wrong_citations": sorted(flagged),
            "comment": given.comment,
            "build_id": exchange.build_id,
            "service_answer": exchange.answer,
            "abstained": exchange.abstained,
            "given_at": feedback.updated_at.isoformat(),
        },
        "review": review,
    }


def eval_items(feedback: Iterable[Feedback]) -> list[dict[str, Any]]:
    return [eval_item(f) for f in feedback]
