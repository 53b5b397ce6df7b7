"""Section paths, boxes and tables on the real documents."""

from __future__ import annotations

import pytest

from silkqa.index.ingest.chunking import chunk_document
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.structure import format_path, parse_blocks
from silkqa.index.ingest.tokens import count_tokens
from silkqa.index.ingest.types import BlockKind
from silkqa.service.settings import Settings
from tests.support.paths import read_corpus


def _blocks(doc_id):
    text = clean(read_corpus(doc_id)).text
    return text, parse_blocks(text)


def _path_of(doc_id, needle):
    text, blocks = _blocks(doc_id)
    pos = text.index(needle)
    return format_path(next(b.path for b in blocks if b.start <= pos < b.end))


def test_item_under_its_part():
    assert _path_of("guiding-opinion-2017", "新型智库") == "四、组织保障 › （三）加强人才队伍建设"


def test_inline_item_title_is_its_first_clause():
    assert _path_of("opinion-2022", "推广新能源和清洁能源车船") == "二、统筹推进绿色发展重点领域合作 › （六）加强绿色交通合作"


def test_box_cases_nest_inside_their_box():
    path = _path_of("progress-report-2023", "项目每年提供清洁电力 1.1亿度")
    assert path.endswith("专栏四 助力共建国家建设可再生能源项目 › （二）黑山莫祖拉风电项目")
    path = _path_of("progress-report-2023", "加纳特马新集装箱码头")
    assert "专栏一" in path


def test_document_items_after_a_box_leave_the_box():
    path = _path_of("progress-report-2023", "（三）持续深化绿色能源交流合作")
    assert path == "一、发展成效 › （三）持续深化绿色能源交流合作"


def test_chronology_events_carry_their_year():
    assert _path_of("progress-report-2023", "“一带一路”绿色供应链合作平台正式上线") == "附件 › 2017年"


def test_paper_sections_follow_their_numbering():
    assert _path_of("strategy-framework-paper", "评估中国甘肃、新疆") == (
        "3 “一带一路”绿色发展战略框架 › 3.3 加强“一带一路”战略实施的风险规制 › 3.3.1 建立“一带一路”沿线国生态环境状况图…"
    )


def test_table_rows_carry_the_category_of_their_group():
    text, blocks = _blocks("eco-cooperation-plan-2017")
    rows = [b for b in blocks if b.kind is BlockKind.TABLE_ROW]
    assert len(rows) == 25
    row12 = next(b for b in rows if "沿线环境标志互认" in text[b.start : b.end])
    assert "贸易畅通" not in text[row12.start : row12.end]  # the cell is blank in the source
    assert "类目：贸易畅通" in row12.context
    assert all("类目：" in b.context for b in rows)


@pytest.mark.parametrize(
    "doc_id",
    ["guiding-opinion-2017", "opinion-2022", "eco-cooperation-plan-2017", "strategy-framework-paper", "progress-report-2023"],
)
def test_chunks_are_exact_spans_within_budget_and_one_section(doc_id):
    text = clean(read_corpus(doc_id)).text
    options = Settings().index_options().chunking
    chunks = chunk_document(doc_id, text, options)
    _, blocks = _blocks(doc_id)
    assert chunks
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        inside = [b for b in blocks if chunk.start <= b.start and b.end <= chunk.end and b.kind is not BlockKind.HEADING]
        assert len({b.path for b in inside}) <= 1, chunk.chunk_id
        for s, e in chunk.sentences:
            assert chunk.start <= s < e <= chunk.end
            assert count_tokens(text[s:e]) <= options.max_tokens


def test_the_rejoined_sidebar_sentence_is_inside_one_chunk_under_section_five():
    text = clean(read_corpus("opinion-2022")).text
    sentence = "重点围绕高效低成本可再生能源发电、先进核电、智能电网、氢能、储能、二氧化碳捕集利用与封存等开展联合研究及交流培训"
    chunks = [c for c in chunk_document("opinion-2022", text, Settings().index_options().chunking) if sentence in c.text]
    assert len(chunks) == 1
    assert format_path(chunks[0].section).startswith("二、统筹推进绿色发展重点领域合作 › （五）加强绿色能源合作")
