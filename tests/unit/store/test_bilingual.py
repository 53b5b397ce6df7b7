"""The English-Chinese bridge read off CC-CEDICT."""

from __future__ import annotations

from silkqa.index.store.bilingual import kinds_of, translate, translations


def test_kinds_of_a_noun_are_the_words_its_two_word_glosses_end_in():
    # "bus" alone is 公共汽车, 巴士, …; the report's 公交车 is a "town bus".
    assert "公交车" not in translations("bus")
    assert "公交车" in kinds_of("buses")
    assert "公交车" in kinds_of("bus")
    assert not kinds_of("xylophonist")


def test_a_possessive_is_looked_up_as_its_word():
    # en-030: "the world's chemical fertilizer" is 世界…化肥 in the strategy paper.
    assert "世界" in translate("What share of the world's chemical fertilizer does the paper say the region uses?")
    assert "世界" in translate("the worlds' fertilizer")
