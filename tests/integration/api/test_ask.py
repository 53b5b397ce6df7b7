"""The HTTP API end to end: real model, real FAISS, real ASGI app."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.runtimes import ask

pytestmark = pytest.mark.stores  # also run with SILKQA_STORE=milvus


def _ask(client, question, **extra):
    r = client.post("/v1/ask", json={"question": question, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def _doc_text(client, doc_id):
    return client.get(f"/v1/documents/{doc_id}").json()["text"]


def _assert_citations_exact(client, body):
    texts = {}
    for c in body["citations"]:
        text = texts.setdefault(c["doc_id"], _doc_text(client, c["doc_id"]))
        assert text[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['marker']}]" in body["answer"]
    for p in body["passages"]:
        text = texts.setdefault(p["doc_id"], _doc_text(client, p["doc_id"]))
        assert text[p["start"] : p["end"]] == p["text"]


def test_guiding_opinion_talent_requirements(client):
    body = _ask(client, "指导意见在人才队伍建设方面有哪些要求？")
    assert not body["abstained"]
    first = body["citations"][0]
    assert first["doc_id"] == "guiding-opinion-2017"
    assert first["section"] == "四、组织保障 › （三）加强人才队伍建设"
    assert "建设“绿色丝绸之路”新型智库" in first["quote"]
    assert "新型智库" in body["answer"]
    _assert_citations_exact(client, body)


def test_2022_opinion_green_transport_vehicles(client):
    body = _ask(client, "2022年的意见在绿色交通方面要推广哪些交通工具？")
    assert not body["abstained"]
    assert any(
        c["doc_id"] == "opinion-2022" and "（六）加强绿色交通合作" in c["section"] and "新能源和清洁能源车船" in c["quote"]
        for c in body["citations"]
    )
    _assert_citations_exact(client, body)


def test_english_question_over_chinese_box_case(client):
    body = _ask(client, "How much clean electricity does the Mozura wind farm in Montenegro supply each year?")
    assert not body["abstained"]
    # An English lead: the document's English title, the figure converted exactly, the name's Chinese form.
    assert body["answer"].startswith("From the Progress report on building the Green Silk Road")
    assert "1.1亿度 = 110 million kWh" in body["answer"] and "Montenegro = 黑山" in body["answer"]
    hit = [c for c in body["citations"] if "1.1亿度" in c["quote"]]
    assert hit and hit[0]["doc_id"] == "progress-report-2023"
    assert "专栏四" in hit[0]["section"] and "5%" in hit[0]["quote"]
    _assert_citations_exact(client, body)


@pytest.mark.parametrize(
    ("question", "absent"),
    [("2024年巴黎奥运会男子100米短跑冠军是谁？", "奥运会"), ("What is the recipe for a classic French croissant?", "croissant")],
)
def test_questions_the_corpus_does_not_answer_are_abstained(client, question, absent):
    body = _ask(client, question)
    assert body["abstained"] is True
    assert body["citations"] == []
    assert body["coverage"]["status"] == "not_covered"
    # The abstention says what is missing, in the answer and in its own field.
    assert absent in body["answer"] and absent in body["abstention"]["missing"]
    assert body["abstention"]["reason"] == body["answer"]
    assert body["passages"] and body["abstention"]["related"], "related reading is still offered"


def test_search_returns_exact_passages(client):
    r = client.post("/v1/search", json={"query": "合作规划 贸易畅通 重点项目", "top_k": 8})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 8
    assert any("沿线环境标志互认" in p["text"] for p in results)
    for p in results:
        assert _doc_text(client, p["doc_id"])[p["start"] : p["end"]] == p["text"]


def test_documents_list_and_detail(client):
    docs = client.get("/v1/documents").json()["documents"]
    assert {d["doc_id"] for d in docs} == {
        "guiding-opinion-2017",
        "opinion-2022",
        "eco-cooperation-plan-2017",
        "strategy-framework-paper",
        "progress-report-2023",
    }
    opinion = next(d for d in docs if d["doc_id"] == "opinion-2022")
    assert opinion["doc_number"] == "发改开放〔2022〕408号" and opinion["chunk_count"] > 10
    detail = client.get("/v1/documents/opinion-2022").json()
    assert "排行榜" not in detail["text"]
    assert detail["offset_map"][0][0] == 0


def test_healthz_and_openapi(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["documents"] == 5
    schema = client.get("/openapi.json").json()
    assert {"/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{doc_id}", "/healthz"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"question": ""}, 422),
        ({"question": "   \n "}, 422),
        ({"question": "问" * 1001}, 422),
        ({"question": 123}, 422),
        ({"question": "绿色金融", "top_k": 0}, 422),
        ({"question": "绿色金融", "top_k": 1000}, 422),
        ({"question": "绿色金融", "top_k": "5"}, 422),
        ({"question": "绿色金融", "top_k": 2.5}, 422),
        ({}, 422),
        ([], 422),
    ],
)
def test_bad_ask_requests_get_a_problem_document(client, payload, status):
    r = client.post("/v1/ask", json=payload)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]


def test_malformed_json_is_a_400(client):
    r = client.post("/v1/ask", content=b'{"question": "x"', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/malformed-json"


def test_unknown_document_and_route_are_404(client):
    r = client.get("/v1/documents/../../etc/passwd")
    assert r.status_code == 404
    r = client.get("/v1/documents/no-such-doc")
    assert r.status_code == 404 and r.json()["type"] == "/problems/unknown-document"
    assert client.get("/v2/nothing").status_code == 404


_corpus_words = st.sampled_from(
    [
        "绿色",
        "一带一路",
        "金融",
        "煤电",
        "风电",
        "智库",
        "2017年",
        "专栏",
        "蒙内铁路",
        "green",
        "finance",
        "wind",
        "附件",
        "？",
        "多少",
        "哪些",
    ]
)
_questions = st.one_of(
    st.lists(_corpus_words, min_size=1, max_size=6).map("".join),
    st.text(min_size=1, max_size=60).filter(lambda s: s.strip()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=_questions, top_k=st.integers(min_value=1, max_value=20))
def test_property_every_citation_is_an_exact_span(snapshot, runtime, question, top_k):
    answer = ask(runtime, question, top_k)
    for c in answer.citations:
        assert snapshot.document(c.doc_id).text[c.start : c.end] == c.quote
    for hit in answer.passages:
        assert snapshot.document(hit.chunk.doc_id).text[hit.chunk.start : hit.chunk.end] == hit.chunk.text
    assert len(answer.passages) <= top_k
    assert answer.abstained == (not answer.citations)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=_questions)
def test_property_citations_exact_through_http(client, question):
    r = client.post("/v1/ask", json={"question": question})
    assert r.status_code == 200
    _assert_citations_exact(client, r.json())
