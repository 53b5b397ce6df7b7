"""Follow-up questions made standalone by the rules, on conversations about the
bundled corpus, and through /v1/ask's `history`."""

from __future__ import annotations

import pytest

from silkqa.service.answering.followup import acceptable_rewrite, format_history, needs_context, rewrite_by_rules, topic_of
from silkqa.service.answering.types import Turn

OPINION_2022 = "《关于推进共建“一带一路”绿色发展的意见》"
MAX_CHARS = 1000  # SILKQA_MAX_QUESTION_CHARS' default


def user(text: str) -> Turn:
    return Turn("user", text)


@pytest.mark.parametrize(
    ("previous", "follow_up", "standalone"),
    [
        # ellipsis: 那X呢 re-asks the previous question about X
        ("2017年的指导意见是什么时候发布的？", "那2022年的意见呢？", "2022年的意见是什么时候发布的？"),
        ("指导意见在人才队伍建设方面有哪些要求？", "那合作规划呢？", "合作规划在人才队伍建设方面有哪些要求？"),
        ("2022年的意见是什么时候发布的？", "那2017年的呢？", "2017年的意见是什么时候发布的？"),
        ("2022年的意见对交通领域有什么要求？", "那能源领域呢？", "2022年的意见对能源领域有什么要求？"),
        # references: 它/其/该… take the topic of the conversation
        (f"{OPINION_2022}是哪天印发的？", "它的目标是什么？", f"{OPINION_2022}的目标是什么？"),
        ("2022年的意见是什么时候发布的？", "其主要目标是什么？", "2022年的意见的主要目标是什么？"),
        ("生态环境保护合作规划是哪年发布的？", "该规划提出了哪些重点项目？", "生态环境保护合作规划提出了哪些重点项目？"),
        # plural references point at the previous answer's items: carry the question along
        ("指导意见提出的基本原则有哪些？", "它们分别是什么意思？", "指导意见提出的基本原则有哪些？ 它们分别是什么意思？"),
        # English
        ("When was the 2017 guiding opinion issued?", "What about the 2022 opinion?", "When was the 2022 opinion issued?"),
        ("When was the 2017 guiding opinion issued?", "And the 2022 one?", "When was the 2022 guiding opinion issued?"),
        ("What does the 2022 opinion say about coal power?", "What are its goals?", "What are the 2022 opinion's goals?"),
        ("What does the 2022 opinion say about coal power?", "When was it issued?", "When was the 2022 opinion issued?"),
        (
            "What does the 2022 opinion say about coal power?",
            "What about renewable energy?",
            "What does the 2022 opinion say about renewable energy?",
        ),
        (
            "How many projects does the plan list in the energy sector?",
            "And the transport sector?",
            "How many projects does the plan list in the transport sector?",
        ),
        (
            "What is the goal of the ecological cooperation plan?",
            "Which projects does this plan list?",
            "Which projects does the ecological cooperation plan list?",
        ),
    ],
)
def test_follow_ups_are_rewritten(previous, follow_up, standalone):
    history = [user(previous), Turn("assistant", "……[1]")]
    assert needs_context(follow_up, history)
    rewrite = rewrite_by_rules(follow_up, history, MAX_CHARS)
    assert rewrite.standalone == standalone
    assert rewrite.rewritten == standalone and rewrite.method == "rules"


def test_the_topic_can_come_from_the_cited_title_of_the_previous_answer():
    history = [
        user("绿色丝绸之路取得了哪些进展？"),
        Turn("assistant", "根据《绿色丝绸之路建设进展报告（2013—2023年11月）》“一、总体进展”部分：……[1]"),
    ]
    assert (
        rewrite_by_rules("它是哪年发布的？", history, MAX_CHARS).standalone
        == "《绿色丝绸之路建设进展报告（2013—2023年11月）》是哪年发布的？"
    )


@pytest.mark.parametrize(
    ("history", "question"),
    [
        ([], "它的目标是什么？"),  # nothing to resolve it with
        ([user("指导意见提出的基本原则有哪些？")], "进展报告提到了哪些合作平台？"),  # standalone already
        ([user("指导意见提出的基本原则有哪些？")], "极其重要的工作有哪些？"),  # 极其 is no reference
        ([user("What are the goals of the 2022 opinion?")], "Which projects does the cooperation plan list?"),
    ],
)
def test_standalone_questions_are_left_alone(history, question):
    rewrite = rewrite_by_rules(question, history, MAX_CHARS)
    assert rewrite.standalone == question and rewrite.rewritten is None


def test_a_reference_with_a_document_word_is_resolved():
    # 该意见 looks like a topic of its own, but it is a reference
    history = [user("2022年的意见有哪些主要目标？")]
    assert rewrite_by_rules("该意见在煤电方面有什么要求？", history, MAX_CHARS).standalone == "2022年的意见在煤电方面有什么要求？"


def test_topics():
    assert topic_of("2017年的指导意见是什么时候发布的？") == "2017年的指导意见"
    assert topic_of(f"请问{OPINION_2022}是哪天印发的？") == OPINION_2022
    assert topic_of("When was the 2017 guiding opinion issued?") == "the 2017 guiding opinion"
    assert topic_of("What is the goal of the 2022 opinion?") == "the 2022 opinion"
    assert topic_of("绿色发展面临哪些风险？") is None


def test_history_as_the_rewriting_prompt_shows_it():
    history = [user("2017年的指导意见是什么时候发布的？"), Turn("assistant", "根据……：4月26日印发。[1][2]")]
    assert format_history(history, "zh") == "用户：2017年的指导意见是什么时候发布的？\n助手：根据……：4月26日印发。"


def test_llm_rewrites_must_look_like_one_question():
    question = "那2022年的意见呢？"
    assert acceptable_rewrite("2022年的意见是什么时候发布的？", question)
    assert not acceptable_rewrite("", question)
    assert not acceptable_rewrite(question, question)
    assert not acceptable_rewrite("2022年的意见于3月28日发布。[1]", question)
    assert not acceptable_rewrite("第一行\n第二行", question)


def test_a_rewrite_longer_than_a_question_may_be_is_not_used():
    """Each 它 becomes the topic's whole title: 400 of them made an 8,000-character
    "question" out of a 401-character one."""
    history = [user(f"{OPINION_2022}在煤电方面有什么要求？")]
    question = "它" * 400 + "？"
    assert len(rewrite_by_rules(question, history, 10**6).standalone) > 20 * len(question)
    bounded = rewrite_by_rules(question, history, MAX_CHARS)
    assert bounded.standalone == question and bounded.method is None
    short = rewrite_by_rules("它的目标是什么？", history, MAX_CHARS)  # an ordinary follow-up is still rewritten
    assert short.standalone == f"{OPINION_2022}的目标是什么？"
