"""Evidence judged against what was asked, on real corpus sentences."""

from __future__ import annotations

from silkqa.index.language import compact
from silkqa.service.answering.answerability import Gap, judge, mentions, spelled_out

MOMBASA = "蒙内铁路全长 471公里，连接肯尼亚首都内罗毕和东非第一大港蒙巴萨港，是首条在海外全部采用“中国标准”建造的铁路，在非洲留下了“一带一路”绿色印迹。"
BYD = "比亚迪向智利交付的纯电动公交车已在圣地亚哥投入运营。"  # the shape of the report's sentence, with no year


def test_a_sentence_holding_every_part_answers(analysis_of):
    j = judge(analysis_of("蒙内铁路有多长？连接的是哪两个地方？"), MOMBASA, "")
    assert j.ok and j.answers == {0, 1}


def test_a_sentence_on_the_subject_without_the_asked_figure_lacks_it(analysis_of):
    j = judge(analysis_of("蒙内铁路一共投资了多少钱？"), MOMBASA, "")
    assert not j.ok
    assert {m.gap for m in j.lacking} == {Gap.DETAIL}
    assert "投资的金额" in {m.what for m in j.lacking}


def test_a_place_no_document_mentions_is_absent_whatever_the_evidence(analysis_of):
    j = judge(analysis_of("Which Tanzanian cities does the Mombasa-Nairobi railway connect?"), MOMBASA, "")
    assert Gap.ABSENT in {m.gap for m in j.missing}
    assert not j.ok


def test_a_name_the_evidence_lacks_is_not_with_it(analysis_of):
    j = judge(analysis_of("柬埔寨的铁路有多长？"), MOMBASA, "")
    assert [(m.what, m.gap) for m in j.missing] == [("柬埔寨", Gap.NOT_WITH)]


def test_the_context_counts_for_names_but_not_for_the_asked_detail(analysis_of):
    analysis = analysis_of("进展报告里比亚迪向智利交付的纯电动公交车是哪一年开始运营的？")
    j = judge(analysis, BYD, "中国绿色“一带一路”发展进展报告 2023")
    assert not j.missing, "比亚迪 and 智利 are in the sentence"
    assert not j.answers and j.lacking, "a sentence with 运营 but no year does not answer when"


def test_a_short_word_is_mentioned_when_its_characters_stand_close_in_order():
    assert mentions("投运", "已于2019年投入运营")
    assert not mentions("投运", "投资建设的公路已运营")


def test_a_vague_body_does_not_name_the_one_asked_for(analysis_of):
    analysis = analysis_of("中老铁路的环评报告委托的是老挝哪家公司？")
    assert not judge(analysis, "项目积极开展环境影响评价工作，委托老挝本地公司结合项目实际编制环评报告。", "中老铁路").answers


def test_a_date_is_not_the_figure_asked_for(analysis_of):
    analysis = analysis_of("昆明生物多样性基金的规模有多大？")
    sentence = "2022年12月 15日，习近平主席在《生物多样性公约》第十五次缔约方大会（COP15）第二阶段高级别会议开幕式致辞中指出，要发挥好昆明生物多样性基金作用。"
    assert not judge(analysis, sentence, "").answers
    assert judge(analysis, "昆明生物多样性基金规模为15亿元人民币。", "").answers == {0}


def test_a_count_of_meetings_is_not_a_date_range_nor_an_ordinal(analysis_of):
    analysis = analysis_of("一带一路能源合作伙伴关系开过几次部长会议？")
    dated = "2021年10月 18至 19日，第二届“一带一路”能源部长会议期间，“一带一路”能源合作伙伴关系发布多项成果。"
    assert not judge(analysis, dated, "").answers
    assert judge(analysis, "迄今已召开两届“一带一路”能源部长会议和三届伙伴关系论坛。", "").answers == {0}


KAROT_COAL = (
    "卡洛特水电站总装机 72万千瓦，年平均发电量 32亿千瓦时，将满足当地约 500万人口的用电需求，预计每年可节约标准煤 140万吨。"
)
KAROT_CO2 = "建成后，卡洛特项目预计每年可减少二氧化碳排放量 350万吨。"
KAROT_IFC = "卡洛特水电站在建设过程中采用世界银行国际金融公司的环境和社会责任框架及相关标准，以国际标准严格把控项目环评工作。"


def test_a_name_in_the_second_of_two_asks_binds_that_ask_only(analysis_of):
    analysis = analysis_of("卡洛特水电站每年能省多少煤、减多少二氧化碳？")
    coal, co2 = judge(analysis, KAROT_COAL, ""), judge(analysis, KAROT_CO2, "")
    assert coal.ok and coal.answers == {0}, "the coal sentence answers the first ask"
    assert ("二氧化碳", Gap.NOT_WITH) in {(m.what, m.gap) for m in coal.lacking}
    assert co2.answers == {1}, "the CO2 sentence holds no coal"


def test_a_body_asked_for_is_the_one_that_did_the_asked_thing(analysis_of):
    analysis = analysis_of("卡洛特水电站的贷款是哪家银行提供的？")
    j = judge(analysis, KAROT_IFC, "")
    assert not j.ok, "a bank named in the sentence did not lend: nothing says who did"
    assert "贷款的部门或机构" in {m.what for m in j.lacking}


def test_how_a_thing_is_done_needs_the_thing_done(analysis_of):
    analysis = analysis_of("中老铁路采用什么方式招标？")
    j = judge(analysis, "中老铁路在建设过程中，高度重视生态环境保护，严格落实环保措施，打造绿色生态铁路。", "")
    assert not j.ok and "招标的具体内容" in {m.what for m in j.lacking}


def test_the_place_asked_for_is_not_the_place_the_question_names(analysis_of):
    analysis = analysis_of("绿色投资原则的中亚区域办公室设在哪个城市？")
    assert not judge(analysis, "成员管理或持有的总资产规模达 41万亿美元，已设立中亚区域办公室。", "").answers
    # Any other place does state one (the sentence lacks 中亚, which the verdict's ``missing`` says).
    assert judge(analysis, "蒙内铁路连接肯尼亚首都内罗毕和东非第一大港蒙巴萨港。", "").answers == {0}


def test_the_body_asked_about_is_not_the_body_asked_for(analysis_of):
    analysis = analysis_of("深圳那个一带一路环境技术交流与转移中心是哪年揭牌的？谁建的？")
    # The 中心 unveiled is the subject: the sentence dates it and says nothing of who built it.
    assert judge(analysis, "2016年12月 11日，一带一路环境技术交流与转移中心（深圳）正式揭牌。", "").answers == {0}
    built = judge(analysis, "该中心由生态环境部与深圳市政府共同建设，是中国与共建国家开展环保产业国际合作的实体平台。", "")
    assert 1 in built.answers


MOMBASA_FREIGHT = "蒙内铁路日均开行 9对（18列）货物列车，使用的柴油量远低于公路运输，使温室气体排放量降低了 75%。"
SYR_DARYA = (
    "中国银行作为全球牵头协调银行，成功筹组由欧洲复兴开发银行、亚洲基础设施投资银行、欧佩克国际开发基金等多家跨国银行和多边机构组成的国际银团，"
    "为总投资超过 10亿美元的乌兹别克斯坦锡尔河燃气电站项目落地提供了重要的资金保障。"
)
# The Green Investment Principles' secretariat, which also "led" something, but is no bank.
GIP_TOOLS = "基于该原则，牵头开发了环境与气候风险评估工具箱和绿色项目库，并开展了绿色金融系列能力建设活动。"


def test_a_count_is_of_the_very_thing_asked(analysis_of):
    analysis = analysis_of("蒙内铁路每天开几趟客运列车？")
    j = judge(analysis, MOMBASA_FREIGHT, "")
    assert not j.ok and "客运" in {m.what for m in j.lacking}, "freight trains are not passenger trains"


def test_a_bank_asked_for_is_a_named_bank(analysis_of):
    analysis = analysis_of("乌兹别克斯坦锡尔河燃气电站是哪家中资银行牵头组织银团的？")
    assert analysis.asks[0].kind_of == "银行"
    assert judge(analysis, SYR_DARYA, "").ok
    assert not judge(analysis, GIP_TOOLS, "乌兹别克斯坦锡尔河").answers


def test_a_short_form_is_found_spelled_out_in_the_evidence():
    report = compact("截至 2023年 6月，亚洲基础设施投资银行批准项目总额达 412亿美元，其中应对气候变化领域融资占比超过 50%。")
    assert spelled_out("亚投行", report)
    assert spelled_out("国开行", compact("推动国家开发银行、进出口银行等现有金融机构发挥引导作用"))
    assert spelled_out("发改委", compact("中国国家发展和改革委员会、外交部、商务部联合发布"))
    # Not across a pause, nor out of order.
    assert not spelled_out("亚投行", compact("亚洲国家的投资，银行"))
    assert not spelled_out("行投亚", report)


KAROT = "巴基斯坦卡洛特水电站项目是中巴经济走廊首个水电项目，于2022年 6月正式投入运营。"
NEPAL = "中国与尼泊尔签署了《关于共建“一带一路”合作的谅解备忘录》，推动水电等清洁能源合作。"  # the shape of a Nepal sentence


def test_a_foreign_name_no_dictionary_has_must_be_heard_in_the_evidence(analysis_of):
    analysis = analysis_of("When did the Karot hydropower station start operating?")
    (karot,) = [c for c in analysis.constraints if c.text == "Karot"]
    assert karot.transliterated and karot.in_library  # only the evidence can tell
    assert judge(analysis, KAROT, "").ok
    j = judge(analysis, NEPAL, "")
    assert ("Karot", Gap.NOT_WITH) in {(m.what, m.gap) for m in j.missing}


# The report's list of projects: "一大批" is many, no figure.
PROJECTS = "埃塞俄比亚阿达玛风电项目、黑山莫祖拉风电项目、越南九安风电项目等一大批清洁、高效、优质的可再生能源项目相继建成。"
MOZURA = "项目每年提供清洁电力 1.1亿度，约占黑山全国发电总量的 5%。"


def test_a_great_many_is_no_figure(analysis_of):
    analysis = analysis_of("What is the Mozura wind farm's annual output?")
    assert not judge(analysis, PROJECTS, "").ok
    assert judge(analysis, MOZURA, "黑山莫祖拉风电项目").ok


CAN_THO = "由中国企业投资、建设和运营的芹苴垃圾焚烧发电项目是越南第一个现代化、采用高标准建设的垃圾焚烧发电项目。"


def test_an_ordinal_the_question_asserts_must_be_the_texts(analysis_of):
    # The report calls the Can Tho plant Vietnam's first: a question that says "second" has a false premise.
    j = judge(analysis_of("越南芹苴垃圾发电项目是越南第二个现代化垃圾焚烧项目，第一个是哪个？"), CAN_THO, "")
    assert not j.ok and "第二个" in {m.what for m in j.missing}
    assert judge(analysis_of("越南第一个现代化垃圾焚烧发电项目是哪个？"), CAN_THO, "").ok


GUIDE_NGO = "支持环保社会组织与沿线国家相关机构建立合作伙伴关系，联合开展形式多样的生态环保公益活动。"  # the guiding opinion


def test_a_partnership_is_not_any_partnership(analysis_of):
    j = judge(
        analysis_of("指导意见打算怎么推进中国-东盟生态友好城市伙伴关系？"), GUIDE_NGO, "关于推进绿色“一带一路”建设的指导意见"
    )
    assert not j.ok and "中国-东盟生态友好城市伙伴关系" in {m.what for m in j.missing}


ENERGY_PARTNERSHIP = (
    "在能源领域，中国于 2019年 4月与有关共建国家共同发起成立“一带一路”能源合作伙伴关系，截至2023年11月，成员国已达到33个。"
)


def test_another_body_is_not_the_coalition_asked_about(analysis_of):
    analysis = analysis_of(
        "How many members did the BRI International Green Development Coalition have when it was launched in 2019?"
    )
    j = judge(analysis, ENERGY_PARTNERSHIP, "")
    assert not j.ok and "BRI International Green Development Coalition" in {m.what for m in j.missing}


LAOS_EIA = "项目积极开展环境影响评价工作，委托老挝本地公司结合项目实际编制环评报告。"


def test_a_premise_that_something_was_not_done_is_contradicted_by_a_text_that_says_it_was(analysis_of):
    analysis = analysis_of("中老铁路为什么没做环评就开工了")
    assert analysis.denied == ("环评",)
    j = judge(analysis, LAOS_EIA, "中老铁路项目")
    assert ("环评", Gap.CONTRADICTED) in {(m.what, m.gap) for m in j.missing}
    # A text that says it was not done agrees with the premise.
    assert not judge(analysis, compact("该项目未开展环评。"), "中老铁路项目").missing
    assert analysis_of("为什么项目未经环评就开工？").denied == ("环评",)


MOUS = "与俄罗斯、匈牙利、印度尼西亚、巴布亚新几内亚等国政府签署绿色发展领域投资合作谅解备忘录。"


def test_a_place_inside_a_longer_place_is_not_named(analysis_of):
    j = judge(analysis_of("Which Indian ministry signed the desertification initiative?"), MOUS, "")
    assert "Indian" in {m.what for m in j.missing}  # 印度 only as part of 印度尼西亚
    assert not judge(analysis_of("中国和匈牙利签署了什么备忘录？"), MOUS, "").missing


TEMA_PORT = "加纳特马新集装箱码头工程项目位于非洲西部几内亚湾，是加纳目前最大的水上工程项目，项目由中国企业承建，2020年 6月完工。"


def test_which_company_asks_for_a_named_company_in_english_too(analysis_of):
    analysis = analysis_of("Which Chinese company built the Tema new container terminal in Ghana?")
    assert analysis.asks[0].kind_of == "公司"
    assert not judge(analysis, TEMA_PORT, "").answers  # 中国企业 names no company
