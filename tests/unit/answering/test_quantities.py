"""What kind of quantity a question asks for, and whether a corpus sentence states it."""

from __future__ import annotations

from silkqa.service.answering.quantities import Quantity, asked_quantities, states
from tests.support.paths import read_corpus


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


def test_a_question_asking_which_day_wants_a_day():
    assert Quantity.DAY in asked_quantities("《对外投资合作建设项目生态环境保护指南》是哪天发布的？")
    assert Quantity.DAY not in asked_quantities("《对外投资合作建设项目生态环境保护指南》是哪年发布的？")
    assert states(Quantity.DAY, "1月 5日，中国生态环境部、商务部联合发布《对外投资合作建设项目生态环境保护指南》")
    assert states(Quantity.DAY, "发布时间：2022/03/28")
    assert not states(Quantity.DAY, "2022年 1月，中国政府发布《对外投资合作建设项目生态环境保护指南》")
