"""Markdown with footnotes, and feedback as eval lines, from real corpus text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from silkqa.service.conversations.export import conversation_markdown, eval_item, exchange_markdown
from silkqa.service.conversations.types import (
    CitedQuote,
    Conversation,
    ConversationInfo,
    Exchange,
    Feedback,
    FeedbackIn,
    StoredTurn,
)
from tests.support.paths import read_corpus

PLAN = read_corpus("eco-cooperation-plan-2017")
WHEN = datetime(2026, 5, 4, 3, 2, tzinfo=UTC)


def cite(marker: int, quote: str, section: str = "三、主要任务") -> CitedQuote:
    start = PLAN.index(quote)
    return CitedQuote(
        marker, "eco-cooperation-plan-2017", "“一带一路”生态环境保护合作规划", section, quote, start, start + len(quote)
    )


THINK_TANKS = cite(1, "构建生态环保合作智力支撑体系，提高智库在战略制定、政策对接、投资咨询服务等方面的参与度。")
# A quote over a line break: the footnote must still hold it exactly.
TWO_LINES = cite(2, PLAN[PLAN.index("加强生态环保智库交流合作。") - 20 : PLAN.index("加强生态环保智库交流合作。") + 13])


def answer(question: str, *citations: CitedQuote, abstained: bool = False) -> Exchange:
    text = "".join(f"{c.quote}[{c.marker}]" for c in citations) or "所提供的文档中没有找到能够回答这个问题的内容。"
    return Exchange(question, text, abstained, citations, "build-1", {})


def footnotes(markdown: str) -> dict[int, str]:
    """Footnote number -> the quote it carries, continuation indentation removed."""
    found = {}
    for m in re.finditer(r"^\[\^(\d+)\]: .*?:\n    “(.*?)”$", markdown, re.M | re.S):
        found[int(m.group(1))] = m.group(2).replace("\n    ", "\n")
    return found


def test_an_answer_copied_with_its_citations_as_footnotes():
    assert "\n" in TWO_LINES.quote
    text = exchange_markdown(answer("合作规划对智库有什么要求？", THINK_TANKS, TWO_LINES))
    assert text.startswith("**合作规划对智库有什么要求？**\n\n")
    assert f"{THINK_TANKS.quote}[^1]" in text and "[^2]" in text and "[1]" not in text
    assert "[^1]: 《“一带一路”生态环境保护合作规划》 三、主要任务 (eco-cooperation-plan-2017, characters " in text
    notes = footnotes(text)
    assert notes == {1: THINK_TANKS.quote, 2: TWO_LINES.quote}
    for c in (THINK_TANKS, TWO_LINES):
        assert PLAN[c.start : c.end] == c.quote


def test_a_conversation_numbers_its_footnotes_through():
    info = ConversationInfo("c1", "alice", "智库", WHEN, WHEN, 2)
    turns = (
        StoredTurn(1, "c1", 0, answer("合作规划对智库有什么要求？", THINK_TANKS), WHEN, None),
        StoredTurn(2, "c1", 1, answer("还有呢？", cite(1, TWO_LINES.quote), cite(2, THINK_TANKS.quote)), WHEN, None),
        StoredTurn(3, "c1", 2, answer("2035年呢？", abstained=True), WHEN, None),
    )
    text = conversation_markdown(Conversation(info, turns))
    assert text.startswith("# 智库\n\n_2026-05-04 03:02 UTC · 2 questions_\n\n## 1. 合作规划对智库有什么要求？")
    assert "## 2. 还有呢？" in text and "## 3. 2035年呢？" in text
    assert footnotes(text) == {1: THINK_TANKS.quote, 2: TWO_LINES.quote, 3: THINK_TANKS.quote}
    assert "所提供的文档中没有找到" in text


def feedback(exchange: Exchange, rating, wrong=(), comment=None) -> Feedback:
    return Feedback(7, "alice", 3, exchange, FeedbackIn(rating, tuple(wrong), comment), WHEN, WHEN)


def test_feedback_becomes_an_eval_line_filled_where_it_can_be():
    good = answer("合作规划对智库有什么要求？", THINK_TANKS, TWO_LINES)
    up = eval_item(feedback(good, "up"))
    assert up["id"] == "feedback-7" and up["lang"] == "zh" and up["answerable"] is True
    assert up["gold"] == [{"doc": "eco-cooperation-plan-2017", "quote": q} for q in (THINK_TANKS.quote, TWO_LINES.quote)]
    assert up["answer"] == good.answer and up["feedback"]["build_id"] == "build-1"

    flagged = eval_item(feedback(good, None, wrong=[2], comment="第二条引文不相关"))
    assert flagged["answerable"] is True and [g["quote"] for g in flagged["gold"]] == [THINK_TANKS.quote]
    assert flagged["feedback"]["comment"] == "第二条引文不相关" and any("[2]" in r for r in flagged["review"])

    down = eval_item(feedback(good, "down"))
    assert (down["answerable"], down["gold"]) == (False, []) and down["review"]

    abstained = answer("What did the plan budget for 2040?", abstained=True)
    assert eval_item(feedback(abstained, "up"))["answerable"] is False
    assert eval_item(feedback(abstained, "up"))["lang"] == "en"
    missed = eval_item(feedback(abstained, "down"))
    assert missed["answerable"] is True and missed["gold"] == [] and "add the gold quotes" in missed["review"][0]
