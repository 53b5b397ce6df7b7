"""Sections as answers use them, on the bundled documents' heading trees."""

from __future__ import annotations

from silkqa.index.ingest.sentences import sentence_spans
from silkqa.service.answering import sections

PRINCIPLES = ("二、总体要求", "（二）基本原则")


def test_a_question_naming_a_section_title_anchors_there():
    assert sections.anchor(PRINCIPLES, "合作规划的基本原则有哪些？") == PRINCIPLES
    assert sections.anchor(("二、总体要求", "（三）主要目标"), "2022年意见提出的主要目标是什么？") == (
        "二、总体要求",
        "（三）主要目标",
    )
    assert sections.anchor(PRINCIPLES, "蒙内铁路有多长？") is None


def test_the_items_of_the_principles_are_all_four_in_order(snapshot):
    text = snapshot.document("eco-cooperation-plan-2017").text
    found = [text[s:e] for s, e in (item.heading for item in sections.items(text, PRINCIPLES))]
    assert found == ["理念先行，绿色引领。", "共商共建，互利共赢。", "政府引导，多元参与。", "统筹推进，示范带动。"]


def test_a_section_body_is_whole_sentences_without_its_heading(snapshot):
    text = snapshot.document("opinion-2022").text
    spans = sections.body(text, ("一、总体要求", "（三）主要目标"))
    assert len(spans) == 2
    first, last = text[spans[0][0] : spans[0][1]], text[spans[-1][0] : spans[-1][1]]
    assert first.startswith("到2025年") and "主要目标" not in first
    assert last.startswith("到2030年") and last.endswith("。")


def test_a_sentence_is_found_whole_around_any_offset(snapshot):
    text = snapshot.document("progress-report-2023").text
    at = text.index("471公里")
    s, e = sections.sentence_at(text, at)
    assert text[s:e].startswith("蒙内铁路全长") and text[s:e].endswith("绿色印迹。")


def test_a_title_sentence_is_its_sections_heading():
    assert sections.is_heading("（三）主要目标。", ("一、总体要求", "（三）主要目标"))
    assert not sections.is_heading("到2025年，共建“一带一路”生态环保与气候变化国际交流合作不断深化。", ("（三）主要目标",))


def test_an_inline_item_is_numbered_at_its_sentence_start_or_after_a_colon():
    assert sections.item_number("二是要建立生态环境风险预警机制，精准识别和规避与“一带一路”沿线国家合作的生态环境风险；") == 2
    assert (
        sections.item_number(
            "为实现该目标，要全方面、全过程地实施绿色化“一带一路”战略，重点从四个维度考虑：一是强化战略实施的顶层设计，"
        )
        == 1
    )
    # "统一是" or "这是" opens no item.
    assert sections.item_number("这是中国对外投资的重要原则。") is None
    assert sections.item_number("标准统一是前提。") is None


def _enumerated(text: str, quoted: str) -> list[str]:
    at = text.index(quoted)
    spans = sentence_spans(text)
    return [text[s:e] for s, e in sections.enumeration(text, spans, sections.sentence_at(text, at))]


def test_an_item_of_an_enumeration_brings_every_other_item_across_paragraphs(snapshot):
    text = snapshot.document("strategy-framework-paper").text
    found = _enumerated(text, "重点从四个维度考虑")
    assert [f[:2] for f in found] == ["二是", "三是", "四是"]
    assert found[-1].startswith("四是加强“一带一路”绿色发展战略实施的共通保障能力建设")
    # From the second item, the first comes back too, and the two after it.
    assert [f[:2] for f in _enumerated(text, "二是要建立生态环境风险预警机制")] == ["为实", "三是", "四是"]


def test_a_sentence_outside_an_enumeration_brings_nothing(snapshot):
    text = snapshot.document("strategy-framework-paper").text
    assert _enumerated(text, "中国针对海外投资企业的环境规制不完善") == []


def test_a_head_noun_names_a_short_title_only_when_asked_to():
    meaning = ("一、重要意义", "（一）推进绿色“一带一路”建设是分享生态文明理念…")
    question = "指导意见是从哪几个角度讲它的意义的？"
    assert sections.anchor(meaning, question) is None
    assert sections.anchor(meaning, question, by_head=True) == meaning[:1]
    # A long title is not named by its last word.
    assert sections.anchor(("五、加强对外投资的环境管理",), "管理有哪些？", by_head=True) is None


def test_a_top_level_part_is_found_by_its_numeral(snapshot):
    text = snapshot.document("opinion-2022").text
    assert sections.numbered(text, "四") == ("四、统筹完善绿色发展支撑保障体系",)
    assert sections.numbered(text, "九") is None


def test_the_last_top_level_part(snapshot):
    assert sections.numbered(snapshot.document("opinion-2022").text, sections.LAST) == ("五、统筹加强组织实施",)
