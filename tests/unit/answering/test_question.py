"""Question analysis on questions as users ask them: what must the evidence
contain, what type of answer is wanted, which documents are named."""

from __future__ import annotations

from silkqa.service.answering.quantities import Quantity
from silkqa.service.answering.question import asks_plural, within
from silkqa.service.answering.types import AnswerType, ConstraintKind, MetadataField


def _constraints(analysis):
    return {(c.text, c.kind, c.in_library) for c in analysis.constraints}


def test_a_country_no_document_mentions_is_a_constraint_outside_the_library(analysis_of):
    a = analysis_of("坦桑尼亚有哪些绿色项目？")
    assert ("坦桑尼亚", ConstraintKind.NAME, False) in _constraints(a)
    assert a.answer_type is AnswerType.LIST and a.several


def test_an_english_place_is_looked_for_in_its_chinese_form(analysis_of):
    a = analysis_of("What is the weather in Beijing?")
    beijing = next(c for c in a.constraints if c.text == "Beijing")
    assert "北京" in beijing.forms and beijing.in_library
    # "weather": the dictionary knows it, no document does.
    assert ("weather", ConstraintKind.TERM, False) in _constraints(a)


def test_an_english_adjective_is_named_by_its_place(analysis_of):
    a = analysis_of("Which Tanzanian cities does the Mombasa-Nairobi railway connect?")
    assert ("Tanzania", ConstraintKind.NAME, False) in _constraints(a)
    assert a.answer_type is AnswerType.PLACE


def test_two_questions_in_one_are_two_asks(analysis_of):
    a = analysis_of("蒙内铁路有多长？连接的是哪两个地方？")
    assert [ask.answer_type for ask in a.asks] == [AnswerType.FIGURE, AnswerType.PLACE]
    assert a.asks[0].quantities == frozenset({Quantity.LENGTH})
    assert ("蒙内铁路", ConstraintKind.NAME, True) in _constraints(a)


def test_a_date_question_is_bound_to_the_event_asked_about(analysis_of):
    a = analysis_of("进展报告里比亚迪向智利交付的纯电动公交车是哪一年开始运营的？")
    assert a.answer_type is AnswerType.DATE
    assert "运营" in a.asks[0].bound_to
    assert {"比亚迪", "智利"} <= {c.text for c in a.constraints}
    assert a.documents == {"progress-report-2023"}


def test_a_year_is_a_constraint(analysis_of):
    a = analysis_of("2035年要达到什么目标？")
    year = next(c for c in a.constraints if c.kind is ConstraintKind.YEAR)
    assert year.forms == ("2035",)


def test_coordinated_names_are_alternatives_answered_each_in_turn(analysis_of):
    a = analysis_of("柬埔寨、老挝分别有哪些项目？")
    groups = {c.text: c.group for c in a.constraints}
    assert groups["柬埔寨"] is not None and groups["柬埔寨"] == groups["老挝"]
    assert a.compare


def test_a_quoted_title_names_its_document_and_asks_for_its_issuer(analysis_of):
    a = analysis_of("《关于推进绿色“一带一路”建设的指导意见》是哪个部门发布的？")
    assert a.documents == {"guiding-opinion-2017"}
    assert a.metadata == (MetadataField.ISSUER,)
    assert a.answer_type is AnswerType.ORGANISATION


def test_a_document_named_by_year_and_kind_in_english(analysis_of):
    a = analysis_of("Which agencies issued the 2022 opinions on green development?")
    assert a.documents == {"opinion-2022"}
    assert a.metadata == (MetadataField.ISSUER,)
    assert not any(c.kind is ConstraintKind.YEAR for c in a.constraints), "the year named the document"


def test_an_asked_amount_of_electricity_is_an_energy_figure(analysis_of):
    a = analysis_of("How much electricity does the Mozura wind farm generate a year?")
    assert a.answer_type is AnswerType.FIGURE
    assert Quantity.ENERGY in a.asks[0].quantities


def test_a_question_about_the_library_topic_has_no_hard_constraint(analysis_of):
    a = analysis_of("绿色丝绸之路建设的基本原则有哪些？")
    assert not [c for c in a.constraints if not c.in_library]


def test_chosen_documents_decide_which_document_is_meant(analysis_of):
    a = analysis_of("2017年的指导意见是哪个部门发布的？")
    assert a.documents == {"guiding-opinion-2017"} and a.metadata
    chosen = within(a, frozenset({"opinion-2022"}))
    assert chosen.documents == frozenset() and chosen.metadata == ()
    assert within(a, frozenset({"guiding-opinion-2017", "opinion-2022"})).documents == {"guiding-opinion-2017"}


def test_an_ordinal_must_be_found_as_asked(analysis_of):
    fourth = next(c for c in analysis_of("第四届“一带一路”国际合作高峰论坛是什么时候举办的？").constraints if c.text == "第四届")
    assert fourth.kind is ConstraintKind.NUMBER and not fourth.in_library, "the documents know the third forum only"
    first = next(c for c in analysis_of("绿色发展国际联盟第一次会员大会是什么时候开的？").constraints if c.text == "第一次")
    assert "首次" in first.forms and first.in_library
    second = next(c for c in analysis_of("Where was the second Belt and Road Green Innovation Conference held?").constraints)
    assert second.kind is ConstraintKind.NUMBER and "第二届" in second.forms


def test_a_date_is_bound_to_the_event_before_the_question_word_when_none_follows(analysis_of):
    assert analysis_of("合作规划的中期评估定在哪一年做？").asks[0].bound_to == ("评估",)
    assert analysis_of("那份谅解备忘录覆盖哪几年？").asks[0].bound_to == (), "a verb before it is the subject's"


def test_an_enumeration_comma_before_a_question_word_splits_the_asks(analysis_of):
    a = analysis_of("卡洛特水电站每年能省多少煤、减多少二氧化碳？")
    assert [ask.answer_type for ask in a.asks] == [AnswerType.FIGURE, AnswerType.FIGURE]
    assert a.asks[0].bound_to == ("煤",), "水电站 is the subject's head, 煤 what is measured"
    bound = {c.text: c.ask for c in a.constraints}
    assert bound == {"卡洛特": None, "二氧化碳": 1}


def test_a_document_named_by_year_and_words_of_its_title(analysis_of):
    a = analysis_of("2022年的绿色发展意见是经过哪个机构同意才印发的？")
    assert a.documents == {"opinion-2022"}
    assert a.metadata == (), "who approved it is not who issued it"
    assert analysis_of("2022年意见是哪些部门联合印发的？").metadata == (MetadataField.ISSUER,)


def test_what_another_question_word_asks_for_is_not_the_dated_event(analysis_of):
    a = analysis_of("《苏州宣言》和《苏州共识》分别是哪年在什么场合发布的？")
    assert a.answer_type is AnswerType.DATE and "场合" not in a.asks[0].bound_to


def test_a_list_of_investments_asks_for_no_amount(analysis_of):
    a = analysis_of("What four groups of measures does the strategy paper propose to steer outbound investment?")
    assert all(not ask.quantities for ask in a.asks)
    assert Quantity.MONEY in analysis_of("蒙内铁路一共投资了多少钱？").asks[0].quantities


def test_an_english_count_is_bound_to_what_it_counts(analysis_of):
    a = analysis_of("How many China–Europe Railway Express freight trains have run in total so far?")
    assert a.asks[0].answer_type is AnswerType.FIGURE
    assert "列车" in a.asks[0].bound_to


def test_a_document_named_to_say_which_thing_is_meant_does_not_bound_the_answer(analysis_of):
    # What happened later is told elsewhere (the progress report records the launch).
    assert not analysis_of("合作规划倡议成立的那个绿色发展国际联盟，后来什么时候正式启动了？").documents
    # Who issued another title is asked of that title, not of the opinion that cites it.
    guide = analysis_of("指导意见要求企业落实的《对外投资合作环境保护指南》是什么时候、由谁发布的？")
    assert not guide.documents and not guide.metadata
    # The source of the answer, named as such, still bounds it.
    assert analysis_of("2017年的指导意见在绿色交通方面要推广哪些交通工具？").documents == {"guiding-opinion-2017"}


def test_a_short_organisation_name_is_left_to_the_evidence(analysis_of):
    (aiib,) = [c for c in analysis_of("亚投行批准的项目里，应对气候变化的融资占了多少？").constraints if c.text == "亚投行"]
    assert aiib.abbreviation and aiib.in_library  # the report says 亚洲基础设施投资银行, never 亚投行
    (tanzania,) = [c for c in analysis_of("蒙内铁路连接坦桑尼亚的哪两个城市？").constraints if c.text == "坦桑尼亚"]
    assert not tanzania.abbreviation and not tanzania.in_library


def test_how_a_document_argues_is_no_thing_it_must_name(analysis_of):
    a = analysis_of("论文是从哪几个角度论证搞绿色一带一路的意义的？")
    assert not [c for c in a.constraints if c.text == "论证"]  # the paper argues; it need not say 论证


def test_a_numbered_part_of_a_named_document(analysis_of):
    assert analysis_of("408号文第四部分的保障措施分哪几块？").part == "四"
    assert analysis_of("第四部分讲了什么？").part is None  # no document named: no part of one


def test_a_list_of_things_no_document_names_binds_the_answer(analysis_of):
    (vaccines,) = analysis_of("去肯尼亚旅游之前要打哪些疫苗").asks
    assert vaccines.bound_to == ("疫苗",)
    # A stretch jieba only guessed at ("方签" out of "哪几方签的") binds nothing.
    asks = analysis_of("2023年“一带一路”全民早期预警论坛上签了什么协议，哪几方签的？").asks
    assert all("方签" not in ask.bound_to for ask in asks)


def test_an_english_alias_ending_another_name_names_no_document(analysis_of):
    q = "How many training places have the Green Silk Road Envoys Program and the South-South climate cooperation plan provided?"
    assert not analysis_of(q).documents
    assert analysis_of("What does the cooperation plan say about the Silk Road Fund?").documents == {"eco-cooperation-plan-2017"}


def test_an_english_question_asking_for_a_plural():
    assert asks_plural("What safeguard measures close out the cooperation plan?")
    assert asks_plural("Which two low-carbon demonstration zones does the progress report feature?")
    assert not asks_plural("What does the strategy paper say about the Silk Road Fund?")
    assert not asks_plural("What status does the plan give it?")


def test_the_last_or_an_english_numbered_part(analysis_of):
    assert analysis_of("2022年意见最后一部分讲了哪些内容？").part == "最后"
    assert analysis_of("What does the fourth section of the 2022 opinion cover?").part == "四"
    assert analysis_of("List the measures in the final section of the 2022 opinion.").part == "最后"


def test_hyphenated_names_are_one_alternative_of_a_follow_up(analysis_of):
    a = analysis_of("澜沧江-湄公河环境合作中心是什么时候成立的？中非环境合作中心呢？")
    groups = {c.text: c.group for c in a.constraints}
    assert groups["澜沧江-湄公河环境合作中心"] == groups["中非"] is not None


def test_what_a_figure_counts_is_the_compound_after_its_classifier(analysis_of):
    a = analysis_of("深圳的一带一路环境技术交流与转移中心业务覆盖多少国家？设了多少个联合创新中心？")
    # 联合 and 创新 are verbs to jieba and, with 中心, too common to bind: the compound does.
    assert a.asks[1].counted == ("联合创新中心",)
    assert analysis_of("蒙内铁路每天开行几趟客运列车？").asks[0].counted in (("客运列车",), ("客运", "列车"))


def test_a_closing_what_is_clause_is_an_ask_of_its_own(analysis_of):
    a = analysis_of("喀喇昆仑公路塔科特至雷科特段改线项目的环评是谁做的？总目标是什么？")
    assert [ask.answer_type for ask in a.asks] == [AnswerType.PERSON, AnswerType.OTHER]
    assert a.several
    # Not "什么是…", which asks for a definition.
    assert analysis_of("什么是绿色丝路使者计划？").asks[0].answer_type is AnswerType.DEFINITION


def test_who_issued_a_named_document_however_it_is_said(analysis_of):
    a = analysis_of("指导意见是哪几个部门在2017年联合发的？")
    assert a.documents == {"guiding-opinion-2017"} and a.metadata == (MetadataField.ISSUER,)
    b = analysis_of("Which four ministries jointly issued the 2017 guiding opinion?")
    assert b.documents == {"guiding-opinion-2017"} and b.metadata == (MetadataField.ISSUER,)


def test_english_words_no_document_has_beside_a_known_name_are_not_what_is_asked_about(analysis_of):
    # 签字者 and 支持者 (the dictionary's signatories, supporters) are no document's words,
    # but the Green Investment Principles are what it asks about (46家签署机构…).
    a = analysis_of("How many signatories and supporters do the Green Investment Principles have now?")
    assert not [c for c in a.constraints if c.kind is ConstraintKind.TERM]
    assert not a.asks[0].bound_to, "nor is 'now' what is counted"
    weather = analysis_of("What is the weather in Beijing?")
    assert ("weather", ConstraintKind.TERM, False) in _constraints(weather)


def test_an_english_count_is_bound_to_the_kinds_of_its_head_noun(analysis_of):
    # The dictionary's "bus" is 汽车; the report's buses are 公交车 ("town bus").
    a = analysis_of("How many BYD battery-electric buses had been delivered to Chile by the end of 2022?")
    assert "公交车" in a.asks[0].bound_to


def test_only_a_capitalised_word_no_dictionary_has_is_matched_by_sound(analysis_of):
    a = analysis_of("How much did the Shymkent refinery upgrade in Kazakhstan cut pollutant emissions?")
    assert [c.text for c in a.constraints if c.transliterated] == ["Shymkent"]  # Kazakhstan is in the dictionary
    # Acronyms and short words are not names to hear.
    assert not [c for c in analysis_of("What does the ADB say about Asia?").constraints if c.transliterated]


def test_a_figure_named_by_what_it_measures_is_a_figure(analysis_of):
    assert analysis_of("What is the Mozura wind farm's annual output?").asks[0].answer_type is AnswerType.FIGURE
    karot = analysis_of("What is the installed capacity of the Karot hydropower station?")
    assert karot.asks[0].answer_type is AnswerType.FIGURE and karot.asks[0].quantities == {Quantity.POWER}
    assert analysis_of("What is the Mozura wind farm?").asks[0].answer_type is not AnswerType.FIGURE


def test_a_hyphenated_programme_is_one_name(analysis_of):
    # The partnership is one row of the cooperation plan; 中国 and 东盟 alone are in many passages.
    (name,) = analysis_of("指导意见打算怎么推进中国-东盟生态友好城市伙伴关系？").constraints
    assert name.text == "中国-东盟生态友好城市伙伴关系" and name.kind is ConstraintKind.NAME and name.in_library
    # Nouns after the pair are kept only as far as the name goes ("和" ends it).
    (base,) = analysis_of("中国-东盟环保技术和产业合作示范基地在哪里？").constraints
    assert base.text.startswith("中国-东盟") and "和" not in base.text


def test_a_name_no_dictionary_has_must_at_least_name_its_kind(analysis_of):
    a = analysis_of("How does the BRI International Green Development Coalition work with the Green Climate Fund?")
    kinds = {c.text: c.forms for c in a.constraints if c.kind_only}
    assert "联盟" in kinds["BRI International Green Development Coalition"] and "基金" in kinds["Green Climate Fund"]
    # A possessive ends the name; a place is no kind of thing.
    b = analysis_of("In which city is the Green Investment Principles' Central Asia regional office?")
    assert [c.text for c in b.constraints if c.kind_only] == ["Green Investment Principles"]


def test_a_percentage_an_english_question_states_must_be_the_texts(analysis_of):
    a = analysis_of(
        "Given that the BRI region holds under 10% of the world's population, why does the strategy paper call it densely populated?"
    )
    assert [(c.text, c.forms[0]) for c in a.constraints if c.kind is ConstraintKind.NUMBER] == [("10%", "10%")]
