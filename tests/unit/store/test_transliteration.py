"""Foreign names matched by their sound against the corpus's own transliterations."""

from __future__ import annotations

import pytest

from silkqa.index.store.transliteration import sounds_like, transliterations_in

# Sentences of the progress report, as the documents write them.
KAROT = "巴基斯坦卡洛特水电站项目是中巴经济走廊首个水电项目，于2022年6月正式投入运营。"
JUJUY = "阿根廷胡胡伊省光伏发电站项目是南美地区装机容量最大、海拔最高的光伏电站项目"
WIND = "埃塞俄比亚阿达玛风电项目、厄瓜多尔芦苇桥风电项目、阿根廷胡胡伊省高查瑞光伏电站项目、黑山莫祖拉风电项目"
SIHANOUK = "中国与柬埔寨共建西哈努克省低碳示范区"
TEMA = "（二）加纳特马新集装箱码头项目"
IMAGE = "向世界展示中国形象，形成区域合作的新格局，但也要求单位降低高炉能耗。"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Karot", "卡洛特"),
        ("Mozura", "莫祖拉"),
        ("Adama", "阿达玛"),
        ("Saysettha", "赛色塔"),
        ("Shymkent", "奇姆肯特"),
        ("Tema", "特马"),
        ("Sihanoukville", "西哈努克"),  # the ending is a word of its own: 西哈努克港
        ("Jujuy", "胡胡伊"),  # Spanish j
    ],
)
def test_a_name_sounds_like_its_transliteration(english, chinese):
    assert sounds_like(english, chinese)


def test_every_letter_and_every_character_is_accounted_for():
    assert not sounds_like("Karot", "卡洛")  # the final t is 特
    assert not sounds_like("Karo", "卡洛特")
    assert not sounds_like("Tema", "达玛")  # e is not a
    assert not sounds_like("Shenzhen", "金山")


def test_names_are_found_where_the_documents_write_them():
    assert transliterations_in("Karot", KAROT) == ["卡洛特"]
    assert transliterations_in("Jujuy", JUJUY) == ["胡胡伊"]  # jieba writes 胡胡伊省 as one word
    assert transliterations_in("Mozura", WIND) == ["莫祖拉"]
    assert transliterations_in("Adama", WIND) == ["阿达玛"]
    assert transliterations_in("Tema", TEMA) == ["特马"]
    assert transliterations_in("Sihanoukville", SIHANOUK) == ["西哈努克"]


def test_no_name_is_heard_inside_another_word_or_in_plain_chinese():
    assert transliterations_in("Cairo", KAROT) == []  # 卡洛 is part of 卡洛特
    assert transliterations_in("Duisburg", WIND) == []  # 多尔 is part of 厄瓜多尔 (Ecuador)
    assert transliterations_in("Hanoi", SIHANOUK) == []  # 哈努 is part of 西哈努克
    for name in ("Tsingshan", "Shymkent", "Jujuy", "Tema", "Lusaka", "Chancay", "Quito"):
        assert transliterations_in(name, IMAGE) == [], name  # 形象, 区域, 但也, 高炉 are words, not names
