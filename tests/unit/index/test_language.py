"""The shared language rules (``silkqa.index.language``): whether a text is
Chinese or English, 《titles》 in English questions, and the marker syntax."""

from __future__ import annotations

import pytest

from silkqa.index.language import (
    BRACKETED_NUMBERS,
    MARKER,
    PARTIAL_MARKER,
    fold,
    language_of,
    markers_in,
    strip_markers,
    strip_titles,
)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("指导意见在人才队伍建设方面有哪些要求？", "zh"),
        ("What does the 2022 opinion say about 煤电?", "en"),
        ("PPP模式是什么？", "zh"),
        ("绿色", "zh"),
        ("绿", "en"),  # one character does not make a Chinese question
        ("How much clean electricity does the Mozura wind farm supply each year?", "en"),
        # a Chinese sentence the verifier compares with its passage
        ("项目每年提供清洁电力超过1.1亿度。[1]", "zh"),
    ],
)
def test_language_of(text, lang):
    assert language_of(text) == lang


def test_an_english_question_naming_a_chinese_title_is_english():
    question = "What are the main goals of 《关于推进共建“一带一路”绿色发展的意见》?"
    assert language_of(question) == "zh"  # the title's characters outnumber the words
    assert language_of(strip_titles(question)) == "en"


def test_fold_matches_fullwidth_and_case():
    assert fold("ＰＰＰ模式 Green") == "ppp模式 green"


def test_markers_in_every_style_a_model_writes():
    text = "建设绿色丝绸之路[1]。推广新能源车船[2, 3]【4】。参考[1][2]"
    assert markers_in(text) == (1, 2, 3, 4)
    assert strip_markers(text) == "建设绿色丝绸之路。推广新能源车船。参考"
    assert not MARKER.search("2022年")
    assert PARTIAL_MARKER.search("推广新能源车船[2") and not PARTIAL_MARKER.search("推广新能源车船[2]")


def test_the_papers_reference_marks_are_bracketed_numbers():
    # from the research paper: "…的研究[4,5]" and a range
    assert BRACKETED_NUMBERS.sub(r"〔\1〕", "的研究[4,5]，另见[6-8]") == "的研究〔4,5〕，另见〔6-8〕"
