"""The OpenAI-compatible endpoint, used the way a chatbot would: the official
`openai` client against silkqa served by uvicorn on a loopback port."""

from __future__ import annotations

import httpx
import openai
import pytest

from silkqa.service.api.app import create_app
from tests.support.live import parse_sse, serve

QUESTION = "指导意见在人才队伍建设方面有哪些要求？"


@pytest.fixture(scope="module")
def base_url(runtime):
    with serve(create_app(runtime=runtime)) as url:
        yield url


@pytest.fixture(scope="module")
def chat(base_url):
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="not-needed", max_retries=0)


def test_models_are_the_answer_modes(chat):
    assert [m.id for m in chat.models.list()] == ["silkqa", "silkqa-extractive"]


def test_completion_carries_markers_and_citations(chat, base_url):
    completion = chat.chat.completions.create(model="silkqa", messages=[{"role": "user", "content": QUESTION}])
    content = completion.choices[0].message.content
    citations = completion.model_extra["citations"]
    assert completion.choices[0].finish_reason == "stop"
    assert "复合型人才" in content and "[1]" in content
    assert [c["marker"] for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        assert f"[{c['marker']}]" in content
        document = httpx.get(f"{base_url}/v1/documents/{c['doc_id']}").json()
        assert document["text"][c["start"] : c["end"]] == c["quote"]
    assert completion.model_extra["silkqa"]["abstained"] is False
    assert completion.usage.completion_tokens > 0


def test_citations_are_identical_across_ask_its_stream_and_chat(chat, base_url):
    ask = httpx.post(f"{base_url}/v1/ask", json={"question": QUESTION}).json()
    streamed = parse_sse(httpx.post(f"{base_url}/v1/ask", json={"question": QUESTION, "stream": True}).text)
    completion = chat.chat.completions.create(model="silkqa", messages=[{"role": "user", "content": QUESTION}])
    chunks = list(chat.chat.completions.create(model="silkqa", messages=[{"role": "user", "content": QUESTION}], stream=True))

    streamed_citations = next(data for name, data in streamed if name == "citations")["citations"]
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    assert ask["citations"] == streamed_citations == completion.model_extra["citations"] == final.model_extra["citations"]
    streamed_text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert ask["answer"] == completion.choices[0].message.content == streamed_text
    assert final.model_extra["silkqa"]["passages"] == ask["passages"]


def test_a_follow_up_uses_the_earlier_messages(chat):
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "2022年的意见是哪天印发的？"},
        {"role": "assistant", "content": "根据《关于推进共建“一带一路”绿色发展的意见》：……[1]"},
        {"role": "user", "content": [{"type": "text", "text": "它的主要目标是什么？"}]},
    ]
    completion = chat.chat.completions.create(model="silkqa-extractive", messages=messages)
    extra = completion.model_extra["silkqa"]
    assert extra["rewritten_question"] == "2022年的意见的主要目标是什么？"
    assert "opinion-2022" in {c["doc_id"] for c in completion.model_extra["citations"]}


def test_an_uncovered_question_abstains_through_chat(chat):
    chunks = list(
        chat.chat.completions.create(
            model="silkqa", messages=[{"role": "user", "content": "火星基地的建设预算是多少？"}], stream=True
        )
    )
    final = chunks[-1].model_extra
    assert final["silkqa"]["abstained"] is True and final["citations"] == []
    assert final["silkqa"]["coverage"]["status"] == "not_covered"
    assert final["silkqa"]["abstention"]["missing"][0] == "火星"
    assert "文件中没有提到火星" in "".join(c.choices[0].delta.content or "" for c in chunks)


def test_bad_requests_are_client_errors(chat):
    with pytest.raises(openai.NotFoundError):
        chat.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.UnprocessableEntityError):  # generative mode is not configured here
        chat.chat.completions.create(model="silkqa-generative", messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.UnprocessableEntityError):
        chat.chat.completions.create(model="silkqa", messages=[{"role": "assistant", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError):
        chat.chat.completions.create(model="silkqa", messages=[{"role": "user", "content": "   "}])
    with pytest.raises(openai.UnprocessableEntityError):
        chat.chat.completions.create(model="silkqa", messages=[])
