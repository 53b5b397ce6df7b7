"""Follow-up questions through /v1/ask: rewritten with the history, reported in the response, bad history refused."""

from __future__ import annotations

import pytest


def test_ask_rewrites_a_follow_up_with_history(client):
    body = {
        "question": "它的主要目标是什么？",
        "history": [
            {"role": "user", "content": "2022年的意见是哪天印发的？"},
            {"role": "assistant", "content": "根据《关于推进共建“一带一路”绿色发展的意见》：……[1]"},
        ],
    }
    response = client.post("/v1/ask", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["rewritten_question"] == "2022年的意见的主要目标是什么？"
    assert not data["abstained"]
    assert "opinion-2022" in {c["doc_id"] for c in data["citations"]}
    assert any("主要目标" in c["section"] for c in data["citations"])
    assert "到2025年" in data["answer"] and "到2030年" in data["answer"], "the whole section, both goals"


def test_ask_without_history_has_no_rewrite(client):
    data = client.post("/v1/ask", json={"question": "指导意见提出的基本原则有哪些？"}).json()
    assert data["rewritten_question"] is None


@pytest.mark.parametrize(
    "history",
    [
        [{"role": "system", "content": "x"}],
        [{"role": "user"}],
        [{"role": "user", "content": 5}],
        "not a list",
        [{"role": "user", "content": "x" * 20001}],
    ],
)
def test_bad_history_is_a_422(client, history):
    response = client.post("/v1/ask", json={"question": "它的目标是什么？", "history": history})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "history" in response.json()["detail"]
