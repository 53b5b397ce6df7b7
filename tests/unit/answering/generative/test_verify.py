"""The verifier on its own: numbers, names, terms and citations of generated sentences checked against real corpus passages."""

from __future__ import annotations

from silkqa.service.answering.generative.verify import (
    SentenceStream,
    check_sentence,
    split_sentences,
    supporting_span,
    verify_answer,
)
from tests.support.runtimes import chunks_of


def passage(snapshot, doc_id: str, needle: str) -> str:
    """The text of the chunk of ``doc_id`` that contains ``needle``."""
    return next(c.text for c in chunks_of(snapshot.index, doc_id) if needle in c.text)


def test_verifier_rejects_a_wrong_number(snapshot):
    goals = passage(snapshot, "guiding-opinion-2017", "力争用 3-5 年时间")
    right = "指导意见提出力争用3-5年时间，建成务实高效的生态环保合作交流体系。[1]"
    wrong = "指导意见提出力争用3-8年时间，建成务实高效的生态环保合作交流体系。[1]"
    assert check_sentence(right, [goals], 0.6).supported
    verdict = check_sentence(wrong, [goals], 0.6)
    assert not verdict.supported
    assert verdict.problems == ("numbers not in the cited passages: 8",)


def test_verifier_checks_citations_names_and_terms(snapshot):
    goals = passage(snapshot, "guiding-opinion-2017", "力争用 3-5 年时间")
    checks = verify_answer(
        "指导意见要建成生态环保合作交流体系。"  # cites nothing
        "指导意见要建成产业技术合作基地。[2]"  # there is no passage 2
        "指导意见要求建设“绿色核电联盟”。[1]"  # a name the passage lacks
        "指导意见要求发展深海采矿和太空旅游产业。[1]",  # terms the passage lacks
        [goals],
        0.6,
    )
    assert [c.supported for c in checks] == [False, False, False, False]
    assert checks[0].problems == ("cites no passage",)
    assert "not given: [2]" in checks[1].problems[0]
    assert "绿色核电联盟" in checks[2].problems[0]
    assert "terms" in checks[3].problems[0] and "深海" in checks[3].problems[0]


def test_an_english_sentence_over_chinese_text_is_checked_for_numbers(snapshot):
    mozura = passage(snapshot, "progress-report-2023", "1.1亿度")
    assert check_sentence(
        "The project supplies 1.1 (亿度) of clean power a year, about 5% of Montenegro's. [1]", [mozura], 0.6
    ).supported
    verdict = check_sentence("The project supplies 2.2 亿度 of clean power a year. [1]", [mozura], 0.6)
    assert not verdict.supported and "terms" not in verdict.checks


def test_sentences_keep_their_markers_in_either_style():
    text = "指导意见从以下几个角度讲其意义：\n[1] 是内在要求。\n[2] 是重要实践。然后是第三点[3]。 English too [1]. Done.[2]"
    assert split_sentences(text) == [
        "指导意见从以下几个角度讲其意义：",
        "[1] 是内在要求。",
        "[2] 是重要实践。",
        "然后是第三点[3]。",
        "English too [1].",
        "Done.[2]",
    ]


def test_streamed_text_is_cut_into_the_same_sentences():
    text = "规划提出到2025年建成10个示范园区。[1] 报告显示2023年已建成12个。[2][3]\n结论是3.5倍。[1]"
    splitter, out = SentenceStream(), []
    for i in range(0, len(text), 3):
        out += splitter.feed(text[i : i + 3])
    out += splitter.flush()
    assert out == split_sentences(text)


def test_the_supporting_span_is_the_sentence_with_the_facts(snapshot):
    chunk = next(c for c in chunks_of(snapshot.index) if "1.1亿度" in c.text)
    assert len(chunk.sentences) > 1
    text = snapshot.document(chunk.doc_id).text
    start, end = supporting_span("黑山莫祖拉风电项目每年提供清洁电力1.1亿度。[1]", text, chunk.sentences)
    assert "1.1亿度" in text[start:end] and (start, end) in chunk.sentences
