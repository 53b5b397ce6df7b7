"""`doc_ids` on /v1/ask and /v1/search: answers and passages from the chosen
documents only, even for a question another document answers better."""

from __future__ import annotations

import pytest

TALENT = "指导意见在人才队伍建设方面有哪些要求？"


def test_ask_only_this_document(client):
    library = client.post("/v1/ask", json={"question": TALENT}).json()
    assert {c["doc_id"] for c in library["citations"]} == {"guiding-opinion-2017"}

    only = client.post("/v1/ask", json={"question": TALENT, "doc_ids": ["opinion-2022"], "top_k": 5}).json()
    assert not only["abstained"] and only["citations"]
    assert {c["doc_id"] for c in only["citations"]} == {"opinion-2022"}
    assert len(only["passages"]) == 5 and {p["doc_id"] for p in only["passages"]} == {"opinion-2022"}
    text = client.get("/v1/documents/opinion-2022").json()["text"]
    for c in only["citations"]:
        assert text[c["start"] : c["end"]] == c["quote"]
    assert any("人才支持力度" in c["quote"] for c in only["citations"])


def test_search_only_these_documents(client):
    body = {"query": TALENT, "top_k": 6, "doc_ids": ["progress-report-2023", "opinion-2022"]}
    results = client.post("/v1/search", json=body).json()["results"]
    assert len(results) == 6 and {r["doc_id"] for r in results} <= {"progress-report-2023", "opinion-2022"}


@pytest.mark.parametrize("route, field", [("/v1/ask", "question"), ("/v1/search", "query")])
@pytest.mark.parametrize(
    "doc_ids, slug", [(["no-such-doc"], "unknown-document"), ([], "invalid-request"), ("opinion-2022", "invalid-request")]
)
def test_unknown_or_malformed_doc_ids_are_422(client, route, field, doc_ids, slug):
    r = client.post(route, json={field: TALENT, "doc_ids": doc_ids})
    assert r.status_code == 422 and r.json()["type"] == f"/problems/{slug}", r.text
    if slug == "unknown-document":
        assert "'no-such-doc'" in r.json()["detail"]
