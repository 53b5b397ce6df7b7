"""Retrieval limited to some documents ("ask only this document") filters
before the top k are taken: k passages of those documents, not what is left
of the library's k."""

from __future__ import annotations

TALENT = "指导意见在人才队伍建设方面有哪些要求？"


def test_the_top_k_are_taken_from_the_chosen_documents(snapshot):
    retriever = snapshot.retriever
    library = retriever.find(TALENT, 5)
    assert {h.chunk.doc_id for h in library} == {"guiding-opinion-2017"}, "another document answers it better"

    only = retriever.find(TALENT, 5, frozenset({"opinion-2022"}))
    assert len(only) == 5 and {h.chunk.doc_id for h in only} == {"opinion-2022"}
    assert any("人才支持力度" in h.chunk.text for h in only[:2]), "and its best passage on talent comes first"
    assert [h.score for h in only] == sorted((h.score for h in only), reverse=True)

    two = retriever.find(TALENT, 8, frozenset({"opinion-2022", "guiding-opinion-2017"}))
    assert {h.chunk.doc_id for h in two} <= {"opinion-2022", "guiding-opinion-2017"}
    assert retriever.find(TALENT, 5, None) == library
