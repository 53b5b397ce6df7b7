"""Answer-side rules on real questions and corpus snippets: asked quantities,
English-to-Chinese keyword expansion, document names, sentence selection."""

from __future__ import annotations

from conftest import read_corpus

from index.bilingual import build_lexicon, expand
from index.lexical import fold
from service.quantities import Quantity, asked_quantities, states
from service.retrieval import detect_language, named_documents


def test_asked_quantities():
    assert asked_quantities("蒙内铁路一共投资了多少钱？") == {Quantity.MONEY}
    assert asked_quantities("黑山莫祖拉风电项目的装机容量是多少兆瓦？") == {Quantity.POWER}
    assert asked_quantities("中老铁路全长多少公里？") == {Quantity.LENGTH}
    assert asked_quantities("中国—上海合作组织环境保护合作中心是哪一年成立的？") == {Quantity.DATE}
    assert asked_quantities("指导意见在人才队伍建设方面有哪些要求？") == frozenset()


def test_states_quantity_on_corpus_sentences():
    report = read_corpus("progress-report-2023")
    assert "总投资超过 10亿美元的乌兹别克斯坦锡尔河燃气电站项目" in report
    assert states(Quantity.MONEY, "为总投资超过 10亿美元的乌兹别克斯坦锡尔河燃气电站项目落地提供了重要的资金保障")
    assert not states(Quantity.MONEY, "蒙内铁路全长 471公里，连接肯尼亚首都内罗毕和东非第一大港蒙巴萨港")
    assert states(Quantity.LENGTH, "蒙内铁路全长 471公里")
    assert states(Quantity.POWER, "卡洛特水电站总装机 72万千瓦，年平均发电量 32亿千瓦时")


def test_near_topic_question_asking_an_unstated_amount_is_abstained(engine):
    answer = engine.ask("蒙内铁路一共投资了多少钱？", 5)
    assert answer.abstained and not answer.citations
    assert any("蒙内铁路" in h.chunk.text for h in answer.passages), "the nearest passages are still offered"


def test_the_same_entity_with_a_stated_quantity_is_answered(engine):
    answer = engine.ask("蒙内铁路全长多少公里？", 5)
    assert not answer.abstained
    assert "471公里" in answer.citations[0].quote


def test_english_words_expand_to_chinese_terms_of_the_corpus():
    corpus = fold("".join(read_corpus(d) for d in ("progress-report-2023", "guiding-opinion-2017")))
    lexicon = build_lexicon(corpus)
    terms = expand("How much clean electricity does the wind farm in Kenya supply each year?", lexicon)
    assert {"电力", "肯尼亚"} <= set(terms)
    assert all(t in corpus for t in terms)
    assert expand("指导意见在人才队伍建设方面有哪些要求？", lexicon) == []


def test_index_translates_english_questions(engine):
    assert "智库" in engine.index.lexical.translations("What does the guiding opinion say about think tanks?")


def test_documents_named_by_their_aliases(engine):
    aliases = engine.retriever._aliases
    assert named_documents("指导意见在人才队伍建设方面有哪些要求？", aliases) == {"guiding-opinion-2017"}
    assert named_documents("2022年的意见和合作规划对绿色金融的要求有何不同？", aliases) == {"opinion-2022", "eco-cooperation-plan-2017"}
    assert named_documents("绿色金融有哪些进展？", aliases) == frozenset()


def test_language_detection():
    assert detect_language("指导意见在人才队伍建设方面有哪些要求？") == "zh"
    assert detect_language("What does the 2022 opinion say about 煤电?") == "en"
    assert detect_language("PPP模式是什么？") == "zh"


def test_factoid_questions_cite_one_sentence_lists_may_cite_more(engine):
    factoid = engine.ask("蒙内铁路全长多少公里？", 5)
    assert len(factoid.citations) == 1
    listing = engine.ask("合作规划里贸易畅通类有哪些重点项目？", 5)
    assert 1 <= len(listing.citations) <= 2


def test_documents_that_disagree_on_a_date_are_both_cited(engine):
    answer = engine.ask("2022年四部门联合印发的绿色发展意见，发布时间是哪天？", 5)
    by_doc = {c.doc_id: c.quote for c in answer.citations}
    assert "2022/03/28" in by_doc.get("opinion-2022", "")  # the web page's 发布时间
    assert "3月 16日" in by_doc.get("progress-report-2023", "")  # the report's chronology
