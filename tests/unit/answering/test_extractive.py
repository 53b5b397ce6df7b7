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


def test_a_list_question_naming_a_section_by_its_head_noun_gets_its_items(runtime):
    answer = ask(runtime, "为什么要搞绿色“一带一路”？指导意见是从哪几个角度讲它的意义的？", 5)
    quotes = "".join(c.quote for c in answer.citations)
    # The three items of "一、重要意义", not the first item and its body.
    for item in ("内在要求", "重要实践", "重要举措"):
        assert item in quotes
    assert all(c.doc_id == "guiding-opinion-2017" for c in answer.citations)


def test_a_question_about_a_subsection_is_not_answered_with_its_chapter(runtime):
    answer = ask(runtime, "加纳特马码头项目在保护海龟上取得了什么成效？", 5)
    assert "1.7万只" in answer.citations[0].quote  # not the introduction of "一、发展成效"


def test_a_list_question_quoting_one_item_of_an_inline_enumeration_gets_all(runtime):
    answer = ask(runtime, "论文提出的“一带一路”绿色发展战略框架从哪几个维度考虑？", 5)
    assert [c.quote[:2] for c in answer.citations][-3:] == ["二是", "三是", "四是"]


def test_a_numbered_part_of_a_named_document_is_answered_with_its_items(runtime):
    answer = ask(runtime, "2022年的意见第四部分的保障措施分哪几块？", 5)
    assert not answer.abstained
    assert [c.quote[:4] for c in answer.citations] == ["（十五）", "（十六）", "（十七）", "（十八）"]
    # A part that is not about what is asked is no answer by itself.
    other = ask(runtime, "2022年的意见第四部分对煤电项目有什么要求？", 5)
    assert all(not c.quote.startswith("（十五）") for c in other.citations)


def test_an_english_question_names_a_section_through_its_chinese_words(runtime):
    answer = ask(runtime, "What safeguard measures close out the cooperation plan?", 5)
    quotes = [c.quote for c in answer.citations]
    # The items of "十、保障措施", each an inline title, and not the section's own heading.
    assert quotes[:3] == ["强化组织协调。", "加强政策支持。", "落实资金保障。"]


def test_the_final_section_of_a_named_document_is_answered_with_its_items(runtime):
    answer = ask(runtime, "2022年意见最后一部分讲了哪些内容？", 5)
    assert [c.quote[:4] for c in answer.citations] == ["（十九）", "（二十）", "（二十一"]


def test_a_list_question_naming_a_table_group_gets_its_rows_not_their_count(runtime):
    answer = ask(runtime, "资金融通类的项目有哪几个？", 5)
    quote = answer.citations[0].quote
    assert "绿色投融资研究" in quote and "基金研究" in quote
    assert "25 个重点项目" not in answer.text  # the sentence that counts the groups lists none


def test_alike_sentences_about_two_names_asked_for_are_both_answers(runtime):
    answer = ask(runtime, "澜沧江-湄公河环境合作中心是什么时候成立的？中非环境合作中心呢？", 5)
    quotes = " ".join(c.quote for c in answer.citations)
    assert "11月 28日" in quotes and "11月 24日" in quotes


def test_a_sentence_two_parts_reach_is_quoted_once(runtime):
    # The best sentence (海洋垃圾治理…) and the park's opening one, run on through its
    # paragraph, both reach it: quoted twice it was cited as [1] and [4].
    answer = ask(runtime, "印尼青山工业园在减排和生态保护方面有什么亮点？", 5)
    quotes = [(c.doc_id, c.start) for c in answer.citations]
    assert len(quotes) == len(set(quotes))
    assert any("珊瑚移植" in c.quote for c in answer.citations)
    assert any("60%以上" in c.quote for c in answer.citations)


def test_an_ask_the_best_sentence_leaves_open_is_answered_by_the_next_one(runtime):
    answer = ask(runtime, "深圳的一带一路环境技术交流与转移中心业务覆盖多少国家？设了多少个联合创新中心？", 5)
    quotes = [c.quote for c in answer.citations]
    assert any("60多个共建国家" in q for q in quotes)
    assert any("15个绿色产业联合创新中心" in q for q in quotes)
    assert "未涉及" not in answer.text
