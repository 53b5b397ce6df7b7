"""A document's particulars attested by the texts that state them."""

from __future__ import annotations

from silkqa.service.answering.metadata import manifest_value, metadata_evidence
from silkqa.service.answering.types import MetadataField
from tests.support.runtimes import chunks_of


def _documents(snapshot):
    return {doc_id: snapshot.document(doc_id) for doc_id in snapshot.retriever.document_names}


def test_the_issuers_of_the_2017_opinion_are_attested_by_the_reports_chronology(snapshot):
    documents = _documents(snapshot)
    assert manifest_value(documents["guiding-opinion-2017"], MetadataField.ISSUER)
    found = metadata_evidence(documents["guiding-opinion-2017"], MetadataField.ISSUER, chunks_of(snapshot.index))
    quotes = {doc_id: documents[doc_id].text[s:e] for doc_id, (s, e) in found}
    assert (
        "生态环境部、外交部、国家发展改革委、商务部联合发布《关于推进绿色“一带一路”建设的指导意见》"
        in quotes["progress-report-2023"]
    )


def test_every_cited_particular_is_an_exact_span(snapshot):
    documents = _documents(snapshot)
    chunks = list(chunks_of(snapshot.index))
    for doc_id in documents:
        for field in MetadataField:
            for source, (s, e) in metadata_evidence(documents[doc_id], field, chunks):
                assert 0 <= s < e <= len(documents[source].text)
                assert documents[source].text[s:e].strip() == documents[source].text[s:e]
