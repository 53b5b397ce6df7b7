"""Answer-side rules on real questions and corpus snippets: asked quantities,
English-to-Chinese keyword expansion, document names, sentence selection."""

from __future__ import annotations

from tests.support.runtimes import ask


def test_near_topic_question_asking_an_unstated_amount_is_abstained(runtime):
    answer = ask(runtime, "蒙内铁路一共投资了多少钱？", 5)
    assert answer.abstained and not answer.citations
    assert any("蒙内铁路" in h.chunk.text for h in answer.passages), "the nearest passages are still offered"


def test_the_same_entity_with_a_stated_quantity_is_answered(runtime):
    answer = ask(runtime, "蒙内铁路全长多少公里？", 5)
    assert not answer.abstained
    assert "471公里" in answer.citations[0].quote


def test_factoid_questions_cite_one_sentence_lists_may_cite_more(runtime):
    factoid = ask(runtime, "蒙内铁路全长多少公里？", 5)
    assert len(factoid.citations) == 1
    listing = ask(runtime, "合作规划里贸易畅通类有哪些重点项目？", 5)
    assert 1 <= len(listing.citations) <= 2


def test_documents_that_disagree_on_a_date_are_both_cited(runtime):
    answer = ask(runtime, "2022年四部门联合印发的绿色发展意见，发布时间是哪天？", 5)
    by_doc = {c.doc_id: c.quote for c in answer.citations}
    assert "2022/03/28" in by_doc.get("opinion-2022", "")  # the web page's 发布时间
    assert "3月 16日" in by_doc.get("progress-report-2023", "")  # the report's chronology
