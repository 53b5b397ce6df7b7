"""`/v1/ask` with `"stream": true`: Server-Sent Events in the contract's order,
whose text and citations are exactly the non-streaming response's."""

from __future__ import annotations

import httpx
import pytest

from silkqa.service.answering.pipeline import text_pieces
from silkqa.service.answering.types import Delta, Started
from silkqa.service.api import sse
from silkqa.service.api.app import create_app
from tests.support.live import parse_sse, serve

QUESTIONS = [
    "指导意见在人才队伍建设方面有哪些要求？",
    "How much clean electricity does the Mozura wind farm supply each year?",
    "共建“一带一路”的意见对境外煤电项目有什么要求？",
    "火星基地的建设预算是多少？",  # abstained
]


def stream(client, body: dict) -> list[tuple[str | None, dict | str]]:
    response = client.post("/v1/ask", json={**body, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse_sse(response.text)


@pytest.mark.parametrize("question", QUESTIONS)
def test_stream_matches_the_plain_response(client, question):
    plain = client.post("/v1/ask", json={"question": question, "top_k": 3}).json()
    events = stream(client, {"question": question, "top_k": 3})
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-2:] == ["citations", "done"]
    assert set(names[1:-2]) == {"delta"}
    meta, citations, done = events[0][1], events[-2][1], events[-1][1]
    assert meta == {"question": question, "rewritten_question": None, "lang": plain["lang"], "mode": "extractive"}
    assert "".join(data["text"] for name, data in events if name == "delta") == plain["answer"]
    assert citations == {k: plain[k] for k in ("abstained", "coverage", "abstention", "citations", "passages")}
    assert done["confidence"] == plain["confidence"] and done["mode"] == plain["mode"]
    assert set(done["timings_ms"]) >= {"embed", "retrieve", "answer"}


def test_stream_of_a_follow_up_says_how_it_was_rewritten(client):
    history = [{"role": "user", "content": "2022年的意见是哪天印发的？"}]
    events = stream(client, {"question": "它的主要目标是什么？", "history": history})
    assert events[0][1]["rewritten_question"] == "2022年的意见的主要目标是什么？"
    assert "opinion-2022" in {c["doc_id"] for c in events[-2][1]["citations"]}


def test_extractive_answers_stream_in_pieces_ending_at_markers():
    text = "根据《甲》：第一句。[1] 第二句。[2]\n根据《乙》：第三句。[3]"
    pieces = text_pieces(text)
    assert "".join(pieces) == text
    assert pieces == ["根据《甲》：第一句。[1]", " 第二句。[2]", "\n", "根据《乙》：第三句。[3]"]


def test_a_failure_after_the_stream_began_is_an_error_event():
    def events():
        yield Started("问题", None, "zh", "extractive")
        yield Delta("第一句。[1]")
        raise RuntimeError("index went away")

    out = parse_sse("".join(sse.ask_events(events(), "/v1/ask")))
    assert [name for name, _ in out] == ["meta", "delta", "error"]
    problem = out[-1][1]
    assert problem["status"] == 500 and problem["type"] == "/problems/internal-error"
    assert "index went away" not in problem["detail"]  # no internals leave the server


def test_bad_stream_flag_is_a_422(client):
    response = client.post("/v1/ask", json={"question": "指导意见有哪些原则？", "stream": "yes"})
    assert response.status_code == 422 and "stream" in response.json()["detail"]


def test_generative_mode_without_an_llm_is_a_422(client):
    for stream_flag in (False, True):
        response = client.post("/v1/ask", json={"question": "指导意见有哪些原则？", "mode": "generative", "stream": stream_flag})
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/mode-unavailable"


def test_client_leaving_mid_stream_harms_nothing(runtime):
    question = "指导意见在人才队伍建设方面有哪些要求？"
    with serve(create_app(runtime=runtime)) as url:
        for _ in range(3):
            with httpx.Client(timeout=30) as http:
                with http.stream("POST", f"{url}/v1/ask", json={"question": question, "stream": True}) as response:
                    first = next(response.iter_lines())
                    assert first == "event: meta"
                # leaving the block closes the connection before the stream is read
        after = httpx.post(f"{url}/v1/ask", json={"question": question}, timeout=30)
        assert after.status_code == 200 and after.json()["citations"]
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
