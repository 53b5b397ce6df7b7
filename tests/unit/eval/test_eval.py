"""The evaluation suite: set validation, content matching, metrics, reports,
and the same numbers in-process and over HTTP."""

from __future__ import annotations

import json

import pytest

from silkqa.eval import report as reports
from silkqa.eval.dataset import EvalItem, Gold, GoldLocator, load_eval_set, supports, validate
from silkqa.eval.metrics import METRICS, QuestionResult, bootstrap_ci
from silkqa.eval.runner import InProcessTarget, run
from silkqa.service.cli import main as cli_main
from tests.support.paths import ROOT

DEV = ROOT / "eval" / "dev.jsonl"


@pytest.fixture(scope="module")
def dev_items():
    return load_eval_set(DEV)


def _docs(snapshot):
    return {d.meta.doc_id: d.text for d in snapshot.documents()}


def test_dev_set_is_valid_against_the_cleaned_corpus(snapshot, dev_items):
    assert validate(dev_items, _docs(snapshot)) == []
    assert len(dev_items) >= 150
    langs = [i.lang for i in dev_items]
    assert langs.count("en") >= 0.12 * len(dev_items)
    assert sum(not i.answerable for i in dev_items) >= 0.08 * len(dev_items)


def test_validator_reports_bad_items(snapshot):
    items = [
        EvalItem("a", "zh", "q", True, (Gold("x", "这句话不在任何文档里出现过的"),), "", ("1.1亿度",), "factoid", "factoid"),
        EvalItem("a", "fr", "q", False, (Gold("x", "蒙内铁路全长"),), "", (), "factoid", "factoid"),
    ]
    problems = validate(items, _docs(snapshot))
    assert any("not found" in p for p in problems)
    assert any("must_contain" in p for p in problems)
    assert any("duplicate id" in p for p in problems)
    assert any("lang" in p for p in problems)
    assert any("answerable" in p for p in problems)


def test_gold_quote_from_raw_text_matches_across_joined_line_wraps(snapshot, runtime):
    raw_quote = "建设“绿色丝绸之路”新型智\n\n库；创新、完善人才培养机制"  # as the PDF wrapped it, roughly
    spans = GoldLocator(_docs(snapshot)).locate(raw_quote)
    assert [s.doc_id for s in spans] == ["guiding-opinion-2017"]
    text = snapshot.document("guiding-opinion-2017").text
    assert text[spans[0].start : spans[0].end] == "建设“绿色丝绸之路”新型智库；创新、完善人才培养机制"


def test_a_passage_holding_half_a_straddling_quote_supports_it(snapshot):
    spans = GoldLocator(_docs(snapshot)).locate("项目每年提供清洁电力 1.1亿度，约占黑山全国发电总量的 5%")
    s = spans[0]
    middle = (s.start + s.end) // 2
    assert supports(spans, s.doc_id, s.start, middle + 1)
    assert not supports(spans, s.doc_id, s.start, s.start + 3)
    assert not supports(spans, "opinion-2022", s.start, s.end)


def _result(**kw) -> QuestionResult:
    base = dict(
        id="q",
        lang="zh",
        kind="factoid",
        category="factoid",
        answerable=True,
        abstained=False,
        relevant_ranks=(),
        gold_count=1,
        new_gold_at_rank=(),
        citations=0,
        supporting_citations=0,
        exact_citations=0,
        key_facts_ok=False,
        timings_ms={},
    )
    return QuestionResult(**{**base, **kw})


def test_metrics_on_hand_made_results():
    results = [
        _result(
            relevant_ranks=(1, 3),
            new_gold_at_rank=(1,),
            citations=2,
            supporting_citations=2,
            exact_citations=2,
            key_facts_ok=True,
        ),
        _result(relevant_ranks=(4,), gold_count=2, new_gold_at_rank=(4,), citations=1, supporting_citations=0, exact_citations=1),
        _result(abstained=True),
        _result(answerable=False, abstained=True, gold_count=0),
        _result(answerable=False, abstained=False, gold_count=0, citations=1, exact_citations=1),
    ]
    m = {name: fn(results) for name, fn in METRICS.items()}
    assert m["recall@1"] == pytest.approx(1 / 3) and m["recall@5"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 4) / 3)
    ideal_two = 1 + 1 / 1.5849625007211563
    assert m["ndcg@10"] == pytest.approx((1 + (1 / 2.321928094887362) / ideal_two) / 3)
    assert m["citation_precision"] == pytest.approx(2 / 3)
    assert m["citation_recall"] == pytest.approx(1 / 3)
    assert m["citation_integrity"] == 1.0
    assert m["key_fact_accuracy"] == pytest.approx(1 / 3)
    assert m["abstention_precision"] == pytest.approx(1 / 2)
    assert m["abstention_recall"] == pytest.approx(1 / 2)
    assert m["false_abstention"] == pytest.approx(1 / 3)
    low, high = bootstrap_ci(results, METRICS["recall@5"])
    assert 0 <= low <= m["recall@5"] <= high <= 1


def test_reports_are_written_and_list_failures(runtime, dev_items, tmp_path):
    subset = [i for i in dev_items if i.id in {"zh-001", "zh-080", "en-001", "na-001", "na-004"}]
    report = reports.build_report(run(subset, InProcessTarget.of(runtime)), "subset", "test")
    paths = reports.write(report, tmp_path)
    assert json.loads(paths["json"].read_text())["n"] == 5
    md = paths["markdown"].read_text()
    assert "| recall@5 |" in md and "## By kind" in md and "## Failures" in md
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    assert report["metrics"]["citation_integrity"]["value"] == 1.0


def test_cli_compare_prints_both_runs(runtime, dev_items, tmp_path, capsys):
    subset = dev_items[:6]
    for label in ("A", "B"):
        reports.write(reports.build_report(run(subset, InProcessTarget.of(runtime)), "subset", label), tmp_path / label)
    assert cli_main(["eval", "--compare", str(tmp_path / "A" / "report.json"), str(tmp_path / "B" / "report.json")]) == 0
    out = capsys.readouterr().out
    assert "| recall@1 |" in out and "+0.000" in out
