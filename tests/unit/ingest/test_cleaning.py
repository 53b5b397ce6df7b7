"""Each cleaning rule on the real snippet of the corpus it exists for."""

from __future__ import annotations

import numpy as np
import pytest

from silkqa.index.ingest import cleaning
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.offsets import Edit, apply_edits
from silkqa.index.ingest.types import OffsetMap
from tests.support.paths import read_corpus

DOCS = ["guiding-opinion-2017", "opinion-2022", "eco-cooperation-plan-2017", "strategy-framework-paper", "progress-report-2023"]


def _run(rule, text: str) -> str:
    out, _ = apply_edits(text, np.arange(len(text)), rule(text))
    return out


def test_line_wraps_inside_chinese_are_joined_without_spaces():
    raw = "    （三）加强人才队伍建设。构建绿色“一带一路”智力\n\n支撑体系，建设“绿色丝绸之路”新型智库；创新、完善人\n\n才培养机制。 \n\n"
    assert _run(cleaning.join_line_wraps, raw).strip() == (
        "（三）加强人才队伍建设。构建绿色“一带一路”智力支撑体系，建设“绿色丝绸之路”新型智库；创新、完善人才培养机制。"
    )


def test_line_wraps_between_latin_words_keep_one_space():
    raw = read_corpus("strategy-framework-paper")
    text = clean(raw).text
    assert "fundamental requirements in furthering economic cooperation" in text
    assert "requirementsin" not in text


def test_paragraph_ends_and_headings_stay_on_their_own_lines():
    text = clean(read_corpus("guiding-opinion-2017")).text
    assert "\n一、重要意义\n（一）推进绿色" in text
    assert "各成员单位:\n丝绸之路经济带" in text  # salutation line ends a paragraph


def test_sidebar_injected_mid_sentence_is_removed_and_sentence_rejoined():
    raw = read_corpus("opinion-2022")
    assert "排行榜" in raw and "可再生能源发\n" in raw
    text = clean(raw).text
    assert (
        "重点围绕高效低成本可再生能源发电、先进核电、智能电网、氢能、储能、二氧化碳捕集利用与封存等开展联合研究及交流培训" in text
    )
    for sidebar_line in ("排行榜", "相关解读", "发改价格〔2023〕526号", "一图读懂", "2023-05-15"):
        assert sidebar_line not in text


def test_without_the_sidebar_rule_the_sentence_stays_split():
    rules = tuple(r for r in cleaning.RULES if r is not cleaning.drop_injected_sidebar)
    assert "可再生能源发电、先进核电" not in clean(read_corpus("opinion-2022"), rules).text


def test_web_navigation_and_footer_are_removed_but_publication_date_kept():
    text = clean(read_corpus("opinion-2022")).text
    assert text.startswith("国家发展改革委等部门 关于推进共建“一带一路”绿色发展的意见")
    for boilerplate in ("[首页](#)", "[打印]", "网站标识码", "版权所有", "[微信](#)"):
        assert boilerplate not in text
    assert "发布时间：2022/03/28" in text


def test_table_of_contents_is_removed_but_sections_remain():
    raw = read_corpus("eco-cooperation-plan-2017")
    assert "一、重要意义.....\t1" in raw
    text = clean(raw).text
    assert "目录" not in text and "....." not in text
    assert text.count("一、重要意义") == 1


def test_lone_page_numbers_are_dropped_and_the_sentence_rejoined():
    raw = read_corpus("progress-report-2023")
    assert "《对\n\n\n\n7\n\n外投资合作绿色发展工作指引》" in raw
    assert "《对外投资合作绿色发展工作指引》" in clean(raw).text


def test_jump_marker_is_dropped_and_the_sentence_rejoined():
    raw = read_corpus("strategy-framework-paper")
    assert "（下转 41 页）" in raw
    text = clean(raw).text
    assert "下转" not in text
    assert "互通共享，以及有效利用，为有关管理部门决策" in text


@pytest.mark.parametrize(
    "line, expected",
    [
        ("1. 深化绿色发展政策沟通1. 深化绿色发展政策沟通", "1. 深化绿色发展政策沟通"),
        ("1. 1. 加强绿色技术研发共享加强绿色技术研发共享", "1. 加强绿色技术研发共享"),
        ("3. 开展应对气候变化能力建设培训项目3. 开展应对气候变化能力建设培训", "3. 开展应对气候变化能力建设培训项目"),
        ("1.突出生态文明理念，加强生态环保政策沟通，促进民心相通。", "1.突出生态文明理念，加强生态环保政策沟通，促进民心相通。"),
    ],
)
def test_doubled_headings(line, expected):
    assert _run(cleaning.dedupe_doubled_headings, line) == expected


def test_doubled_headings_in_the_report_appear_once():
    text = clean(read_corpus("progress-report-2023")).text
    assert "1. 深化绿色发展政策沟通\n" in text
    assert "深化绿色发展政策沟通1." not in text
    assert "1. 加强绿色技术研发共享\n" in text


def test_unusual_spaces_in_paper_headings_become_plain_spaces():
    raw = read_corpus("strategy-framework-paper")
    assert "3.3.1\u2002 建立" in raw
    text = clean(raw).text
    assert "3.3.1  建立“一带一路”沿线国生态环境状况图谱" in text
    assert "\u2002" not in text and "\u2003" not in text


def test_fullwidth_digits_become_ascii_but_fullwidth_punctuation_stays():
    assert _run(cleaning.normalize_characters, "２０２２年（一）") == "2022年（一）"


def test_numbers_starting_a_wrapped_line_are_not_paper_headings():
    text = clean(read_corpus("strategy-framework-paper")).text
    assert "高出世界平均水平的一半以上，单位 GDP 钢材消耗" in text
    assert "世界平均水平的 2 倍或 2 倍以上" in text


@pytest.mark.parametrize("doc_id", DOCS)
def test_offset_map_points_back_to_the_same_characters(doc_id):
    raw = read_corpus(doc_id)
    cleaned = clean(raw)
    rng = np.random.default_rng(0)
    for _ in range(200):
        i = int(rng.integers(0, len(cleaned.text)))
        ch = cleaned.text[i]
        if ch.isspace():
            continue
        o, _ = cleaned.offsets.to_original(i, i + 1)
        assert raw[o] == ch or raw[o] in "\u2002\u2003"


def test_offset_map_round_trip_and_spans():
    text = "ab\n\ncd"
    out, origin = apply_edits(text, np.arange(len(text)), [Edit(2, 4, "")])
    m = OffsetMap.from_origin(origin)
    assert out == "abcd"
    assert m.to_original(2, 4) == (4, 6)
    assert OffsetMap.from_json(m.to_json(), m.clean_length) == m
