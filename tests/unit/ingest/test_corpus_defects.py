"""One row per defect listed in the bundled corpus's README (shared/corpus), each
checked on the real document: the check holds after cleaning and fails when the
rule that exists for it is left out. Structural defects (the table's blank
category cells, boxes, the chronology annex) are checked on the chunks and
answers they affect."""

from __future__ import annotations

import pytest

from silkqa.index.ingest import cleaning
from silkqa.index.ingest.chunking import chunk_document
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.structure import format_path
from silkqa.service.settings import Settings
from tests.support.paths import read_corpus
from tests.support.runtimes import ask

CHUNKING = Settings().index_options().chunking  # the defaults, from the one place they are set

SIDEBAR_SENTENCE = (
    "重点围绕高效低成本可再生能源发电、先进核电、智能电网、氢能、储能、二氧化碳捕集利用与封存等开展联合研究及交流培训"
)

DEFECTS = [
    # (defect, document, rule, check on the cleaned text)
    (
        "PDF line wraps every ~26 characters",
        "guiding-opinion-2017",
        cleaning.join_line_wraps,
        lambda t: "构建绿色“一带一路”智力支撑体系，建设“绿色丝绸之路”新型智库；创新、完善人才培养机制" in t,
    ),
    (
        "site navigation at the top of the page",
        "opinion-2022",
        cleaning.drop_web_boilerplate,
        lambda t: "[首页](#)" not in t and "[政务公开](#)" not in t,
    ),
    (
        "footer at the end of the page",
        "opinion-2022",
        cleaning.drop_web_boilerplate,
        lambda t: "网站标识码" not in t and "版权所有" not in t and "[微信](#)" not in t,
    ),
    (
        "sidebar injected in a sentence of section （五）",
        "opinion-2022",
        cleaning.drop_injected_sidebar,
        lambda t: SIDEBAR_SENTENCE in t and "排行榜" not in t and "相关解读" not in t,
    ),
    (
        "table of contents with dot leaders and page numbers",
        "eco-cooperation-plan-2017",
        cleaning.drop_table_of_contents,
        lambda t: "....." not in t and t.count("一、重要意义") == 1,
    ),
    (
        "（下转 41 页） jump marker inside a sentence",
        "strategy-framework-paper",
        cleaning.drop_jump_markers,
        lambda t: "下转" not in t and "互通共享，以及有效利用，为有关管理部门决策" in t,
    ),
    (
        "unusual Unicode spaces in headings",
        "strategy-framework-paper",
        cleaning.normalize_characters,
        lambda t: "3.3.1  建立“一带一路”沿线国生态环境状况图谱" in t and "\u2002" not in t,
    ),
    (
        "English abstract wrapped between Latin words",
        "strategy-framework-paper",
        cleaning.join_line_wraps,
        lambda t: "fundamental requirements in furthering economic cooperation" in t,
    ),
    (
        "page numbers as lone lines inside a sentence",
        "progress-report-2023",
        cleaning.drop_page_numbers,
        lambda t: "中国政府发布《对外投资合作绿色发展工作指引》，提出建设绿色基础设施" in t,
    ),
    (
        "headings printed twice",
        "progress-report-2023",
        cleaning.dedupe_doubled_headings,
        lambda t: "1. 深化绿色发展政策沟通\n" in t and "深化绿色发展政策沟通1." not in t,
    ),
]


@pytest.mark.parametrize("defect, doc_id, rule, check", DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_defect_is_repaired_by_its_rule(defect, doc_id, rule, check):
    raw = read_corpus(doc_id)
    assert not check(raw), f"the corpus no longer shows the defect: {defect}"
    assert check(clean(raw).text), defect
    without = tuple(r for r in cleaning.RULES if r is not rule)
    assert not check(clean(raw, without).text), f"{defect}: passes without {rule.__name__}"


def test_reference_marks_stay_in_the_sentence_they_support():
    text = clean(read_corpus("strategy-framework-paper")).text
    assert "还不健全等问题 [4,5]。" in text and "居世界第三位 [1]，已经成为资本净输出国" in text


def test_no_sidebar_line_reaches_any_chunk():
    raw = read_corpus("opinion-2022")
    start, end = raw.index("排行榜"), raw.index("相关解读")
    sidebar_lines = [line.strip("- ") for line in raw[start:end].split("\n") if len(line.strip()) > 4]
    assert len(sidebar_lines) >= 5
    for chunk in chunk_document("opinion-2022", clean(raw).text, CHUNKING):
        assert not any(line in chunk.text for line in sidebar_lines)


def _chunks(doc_id):
    return chunk_document(doc_id, clean(read_corpus(doc_id)).text, CHUNKING)


@pytest.mark.parametrize("box", ["专栏一", "专栏二", "专栏三", "专栏四", "专栏五", "专栏六"])
def test_each_box_opens_its_first_chunk_with_its_title(box):
    in_box = [c for c in _chunks("progress-report-2023") if any(s.startswith(box) for s in c.section)]
    assert len(in_box) >= 2
    first = in_box[0]
    box_title = next(s for s in first.section if s.startswith(box))
    assert first.text.startswith(box_title.rstrip("…"))
    assert first.section[-1].rstrip("…") in first.text  # and the title of its first case
    assert all(box_title in c.section for c in in_box)  # every case of the box stays under it


def test_every_chronology_event_carries_its_year():
    annex = [c for c in _chunks("progress-report-2023") if c.section and c.section[0] == "附件"]
    title, annex = annex[0], annex[1:]
    assert title.text == "附件\n绿色丝绸之路发展大事记"  # the annex's own title, before the first year
    assert len(annex) > 30
    years = [c.section[1] for c in annex]
    assert all(len(y) == 5 and y.endswith("年") for y in years)
    assert years == sorted(years) and years[0] == "2015年" and years[-1] == "2023年"
    event = next(c for c in annex if "伦敦金融城联合发起《“一带一路”绿色投资原则》" in c.text)
    assert "2018" not in event.text  # the event line itself has no year ...
    assert format_path(event.section) == "附件 › 2018年"  # ... its section has


def test_a_dated_event_is_answered_with_its_year(runtime):
    answer = ask(runtime, "《“一带一路”绿色投资原则》是哪一年发起的？", 3)
    assert not answer.abstained
    cite = answer.citations[0]
    assert cite.section == ("附件", "2018年") and "绿色投资原则" in cite.quote
    assert "2018年" in answer.text
