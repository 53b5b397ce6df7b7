"""Retrieval's pieces: English words reaching Chinese terms, documents named by their aliases."""

from __future__ import annotations

from silkqa.index.language import fold
from silkqa.index.store.bilingual import translate
from silkqa.service.retrieval.retriever import named_documents


def test_english_words_expand_to_chinese_terms_of_the_library(snapshot, runtime):
    question = "How much clean electricity does the wind farm in Kenya supply each year?"
    corpus = fold("".join(d.text for d in snapshot.documents()))
    assert {"电力", "肯尼亚"} <= set(translate(question))  # the dictionary's words, in any library or none
    terms = snapshot.index.lexical.translations(question)
    assert {"电力", "肯尼亚"} <= set(terms) < set(translate(question))  # only those this library holds
    assert all(t in corpus for t in terms)
    assert snapshot.index.lexical.translations("指导意见在人才队伍建设方面有哪些要求？") == []


def test_index_translates_english_questions(snapshot, runtime):
    assert "智库" in snapshot.index.lexical.translations("What does the guiding opinion say about think tanks?")


def test_documents_named_by_their_aliases(snapshot, runtime):
    aliases = snapshot.retriever.document_names
    assert named_documents("指导意见在人才队伍建设方面有哪些要求？", aliases) == {"guiding-opinion-2017"}
    assert named_documents("2022年的意见和合作规划对绿色金融的要求有何不同？", aliases) == {
        "opinion-2022",
        "eco-cooperation-plan-2017",
    }
    assert named_documents("绿色金融有哪些进展？", aliases) == frozenset()
