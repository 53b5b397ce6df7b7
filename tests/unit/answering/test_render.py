"""How answers and abstentions read, on real figures and questions."""

from __future__ import annotations

from silkqa.service.answering.answerability import Gap, Missing
from silkqa.service.answering.render import abstention_reason, english_figures, year_of_section


def test_chinese_scales_are_converted_exactly_for_english_readers():
    assert english_figures("项目每年提供清洁电力 1.1亿度，约占黑山全国发电总量的 5%") == ["1.1亿度 = 110 million kWh"]
    assert english_figures("年减少二氧化碳排放 72万吨") == ["72万吨 = 720,000 tonnes"]
    assert english_figures("蒙内铁路全长 471公里") == [], "a figure without a scale reads the same"


def test_an_abstention_names_what_is_absent(analysis_of):
    analysis = analysis_of("坦桑尼亚有哪些绿色项目？")
    reason = abstention_reason(analysis, [Missing("坦桑尼亚", Gap.ABSENT)], None, None, [])
    assert reason.startswith("文件中没有提到坦桑尼亚")
    assert "仅供参考" in reason


def test_an_abstention_says_what_the_documents_do_say_and_what_they_lack(analysis_of):
    analysis = analysis_of("How much did the Mombasa-Nairobi railway cost?")
    nearest = "蒙内铁路全长 471公里，连接肯尼亚首都内罗毕和东非第一大港蒙巴萨港。"
    reason = abstention_reason(analysis, [Missing("the amount of money", Gap.DETAIL)], nearest, None, [])
    assert reason.startswith("The documents say “蒙内铁路全长471公里")
    assert "do not give the amount of money" in reason


def test_a_named_document_that_is_silent_points_to_the_one_that_answers(analysis_of):
    analysis = analysis_of("2017年指导意见里提到蒙内铁路了吗？")
    reason = abstention_reason(
        analysis, [], None, ("中国绿色“一带一路”发展进展报告", "蒙内铁路全长 471公里。"), ["关于推进绿色“一带一路”建设的指导意见"]
    )
    assert reason.startswith("《关于推进绿色“一带一路”建设的指导意见》没有涉及这一内容；《中国绿色“一带一路”发展进展报告》提到")


def test_a_chronology_entry_takes_its_year_from_its_section():
    entry = "11月 30日，中国金融学会绿色金融专业委员会与伦敦金融城联合发起《“一带一路”绿色投资原则》。"
    assert year_of_section(("附件", "2018年"), entry) == "2018"
    assert year_of_section(("附件", "2018年"), "2018年 11月 30日，…") is None, "it says its year itself"
    assert year_of_section(("一、发展成效",), entry) is None


def test_an_abstention_quotes_the_nearest_sentence_only_when_it_shares_a_named_thing(analysis_of):
    unrelated = "支持环境技术交流与转移基地、绿色技术示范推广基地和绿色科技园区等平台建设。"
    mars = analysis_of("火星基地的建设预算是多少？")
    reason = abstention_reason(mars, [Missing("火星", Gap.ABSENT), Missing("金额", Gap.DETAIL)], unrelated, None, [])
    assert reason == "文件中没有提到火星。下面列出最接近的段落，仅供参考。"
    tanzania = analysis_of("蒙内铁路经过坦桑尼亚的哪些城市？")
    nearest = "蒙内铁路全长 471公里，连接肯尼亚首都内罗毕和东非第一大港蒙巴萨港。"
    reason = abstention_reason(tanzania, [Missing("坦桑尼亚", Gap.ABSENT), Missing("地点", Gap.DETAIL)], nearest, None, [])
    assert reason.startswith("文件提到：“蒙内铁路全长471公里，连接肯尼亚首都内罗毕和东非第一大港蒙巴萨港。”，但没有提到坦桑尼亚")


def test_with_nothing_close_enough_to_quote_the_abstention_still_says_what_is_lacking(analysis_of):
    analysis = analysis_of("Given that the BRI region holds under 10% of the world's population, why is it densely populated?")
    reason = abstention_reason(analysis, [Missing("10%", Gap.NOT_WITH), Missing("the reason", Gap.DETAIL)], None, None, [])
    assert reason.startswith(
        "The documents do not cover this question: the nearest passages do not mention 10% or do not give the reason."
    )
    zh = abstention_reason(analysis_of("蒙内铁路一共投资了多少钱？"), [Missing("投资的金额", Gap.DETAIL)], None, None, [])
    assert zh.startswith("所提供的文档中没有找到能够回答这个问题的内容：最接近的段落没有说明投资的金额。")


def test_a_contradicted_premise_is_said_to_be(analysis_of):
    analysis = analysis_of("中老铁路为什么没做环评就开工了")
    nearest = "项目积极开展环境影响评价工作，委托老挝本地公司结合项目实际编制环评报告。"
    reason = abstention_reason(analysis, [Missing("环评", Gap.CONTRADICTED)], nearest, None, [])
    assert reason.startswith("文件提到：“项目积极开展环境影响评价工作") and "与问题所说的“没有环评”不符" in reason
