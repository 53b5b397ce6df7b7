"""Conversations and feedback through the real app: each exchange recorded as
it was answered (JSON or streamed), listed, renamed, exported as Markdown whose
footnotes quote the documents exactly, deleted; each key's conversations its
own; feedback with its copy of the answer, counted in the metrics, listed for
editors, and exported by `silkqa feedback export` as lines `silkqa eval` runs."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from silkqa.eval.dataset import load_eval_set, validate
from silkqa.service import cli
from silkqa.service.api.app import create_app
from silkqa.service.runtime import Runtime
from tests.support.live import parse_sse
from tests.support.postgres import postgres_bin, postgres_server
from tests.support.runtimes import runtime_over

TALENT = "指导意见在人才队伍建设方面有哪些要求？"
FOLLOW_UP = "那资金方面呢？"
NOT_COVERED = "2024年巴黎奥运会男子100米短跑冠军是谁？"
KEYS = {"ann": "sq_ann_reader_key_0000001", "bo": "sq_bo_reader_key_00000002", "ed": "sq_ed_editor_key_00000003"}


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


@pytest.fixture
def open_api(runtime_copy):
    """No keys (one local user), over a runtime of its own: its own conversation database."""
    with TestClient(create_app(runtime=runtime_copy)) as client:
        yield client


@pytest.fixture
def keyed(runtime_copy):
    keys = SecretStr("ann:reader:{ann},bo:reader:{bo},ed:editor:{ed}".format(**KEYS))
    with TestClient(create_app(runtime_copy.settings.model_copy(update={"api_keys": keys}), runtime=runtime_copy)) as client:
        yield client


def problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == f"/problems/{slug}"
    return r.json()


def new_conversation(client, headers=None, **body) -> str:
    r = client.post("/v1/conversations", json=body, headers=headers or {})
    assert r.status_code == 201, r.text
    return r.json()["conversation_id"]


def streamed(client, body: dict, headers=None) -> dict:
    """The streamed answer put back together: the citations and done events' fields, and the text."""
    r = client.post("/v1/ask", json={**body, "stream": True}, headers=headers or {})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream"), r.text
    events = parse_sse(r.text)
    out = {"answer": "".join(d["text"] for name, d in events if name == "delta")}
    for name, data in events:
        if name in ("citations", "done"):
            out.update(data)
    return out


def test_a_conversation_records_each_answer_as_given_and_exports_it(open_api, runtime_copy):
    cid = new_conversation(open_api)
    first = open_api.post("/v1/ask", json={"question": TALENT, "conversation_id": cid}).json()
    history = [{"role": "user", "content": TALENT}, {"role": "assistant", "content": first["answer"]}]
    second = streamed(open_api, {"question": FOLLOW_UP, "history": history, "conversation_id": cid})
    assert first["conversation_id"] == second["conversation_id"] == cid
    assert second["turn_id"] > first["turn_id"]

    listed = open_api.get("/v1/conversations").json()["conversations"]
    assert [(c["conversation_id"], c["title"], c["turn_count"]) for c in listed] == [(cid, TALENT, 2)]
    detail = open_api.get(f"/v1/conversations/{cid}").json()
    assert [t["question"] for t in detail["turns"]] == [TALENT, FOLLOW_UP]
    assert detail["turns"][0]["response"] == first, "recorded exactly as it was answered"
    recorded = detail["turns"][1]["response"]
    assert {k: recorded[k] for k in second if k != "timings_ms"} == {k: v for k, v in second.items() if k != "timings_ms"}
    assert detail["turns"][0]["build_id"] == runtime_copy.library.current().build_id

    assert open_api.patch(f"/v1/conversations/{cid}", json={"title": "人才与资金"}).json()["title"] == "人才与资金"

    r = open_api.get(f"/v1/conversations/{cid}/export")
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="conversation-{cid}.md"'
    markdown = r.text
    assert markdown.startswith("# 人才与资金\n") and f"## 1. {TALENT}" in markdown and f"## 2. {FOLLOW_UP}" in markdown
    notes = re.findall(
        r"^\[\^(\d+)\]: 《(.+?)》 (.*?) \(([\w.-]+), characters (\d+)–(\d+)\):\n    “(.*?)”$", markdown, re.M | re.S
    )
    citations = first["citations"] + recorded["citations"]
    assert len(notes) == len(citations) >= 2
    for n, (number, title, section, doc_id, start, end, quote) in enumerate(notes, 1):
        text = open_api.get(f"/v1/documents/{doc_id}").json()["text"]
        assert int(number) == n
        assert quote.replace("\n    ", "\n") == text[int(start) : int(end)], "the footnote quotes text[start:end] exactly"
        assert (title, section) == (citations[n - 1]["title"], citations[n - 1]["section"])

    one = open_api.get(f"/v1/conversations/{cid}/export", params={"turn_id": first["turn_id"]}).text
    assert one.startswith(f"**{TALENT}**\n\n") and "[^1]" in one and "## " not in one

    assert open_api.delete(f"/v1/conversations/{cid}").status_code == 204
    problem(open_api.get(f"/v1/conversations/{cid}"), 404, "unknown-conversation")
    assert open_api.get("/v1/conversations").json()["conversations"] == []


def test_a_conversation_survives_a_restart(runtime_copy, settings, embedder):
    with TestClient(create_app(runtime=runtime_copy)) as client:
        cid = new_conversation(client, title="kept")
        answered = client.post("/v1/ask", json={"question": TALENT, "conversation_id": cid}).json()
    runtime_copy.conversations.close()
    restarted = Runtime.open(runtime_copy.settings, embedder)  # a new process would open the same files
    with TestClient(create_app(runtime=restarted)) as client:
        detail = client.get(f"/v1/conversations/{cid}").json()
    assert detail["title"] == "kept" and detail["turns"][0]["response"] == answered


def test_asking_in_a_conversation_that_is_not_yours_is_refused_before_any_work(keyed):
    cid = new_conversation(keyed, auth("ann"))
    for stream in (False, True):
        body = {"question": TALENT, "conversation_id": cid, "stream": stream}
        problem(keyed.post("/v1/ask", json=body, headers=auth("bo")), 404, "unknown-conversation")
    problem(
        keyed.post("/v1/ask", json={"question": TALENT, "conversation_id": "nope"}, headers=auth("ann")),
        404,
        "unknown-conversation",
    )


def test_each_key_sees_only_its_own_conversations(keyed):
    cid = new_conversation(keyed, auth("ann"), title="Ann's")
    turn = keyed.post("/v1/ask", json={"question": TALENT, "conversation_id": cid}, headers=auth("ann")).json()["turn_id"]
    assert keyed.get("/v1/conversations", headers=auth("bo")).json()["conversations"] == []
    for method, path, body in [
        ("GET", f"/v1/conversations/{cid}", None),
        ("GET", f"/v1/conversations/{cid}/export", None),
        ("PATCH", f"/v1/conversations/{cid}", {"title": "mine now"}),
        ("DELETE", f"/v1/conversations/{cid}", None),
    ]:
        problem(keyed.request(method, path, json=body, headers=auth("bo")), 404, "unknown-conversation")
    problem(keyed.post("/v1/feedback", json={"turn_id": turn, "rating": "up"}, headers=auth("bo")), 404, "unknown-turn")
    assert keyed.get(f"/v1/conversations/{cid}", headers=auth("ann")).json()["title"] == "Ann's"
    problem(keyed.get("/v1/conversations"), 401, "unauthenticated")


def test_feedback_is_stored_with_its_answer_listed_for_editors_and_counted(keyed, runtime_copy):
    cid = new_conversation(keyed, auth("ann"))
    answered = keyed.post("/v1/ask", json={"question": TALENT, "conversation_id": cid}, headers=auth("ann")).json()
    assert len(answered["citations"]) >= 2
    turn = answered["turn_id"]

    problem(keyed.post("/v1/feedback", json={"turn_id": turn}, headers=auth("ann")), 422, "invalid-feedback")
    problem(
        keyed.post("/v1/feedback", json={"turn_id": turn, "wrong_citations": [9]}, headers=auth("ann")), 422, "invalid-feedback"
    )
    problem(keyed.post("/v1/feedback", json={"turn_id": turn, "rating": "meh"}, headers=auth("ann")), 422, "invalid-request")
    problem(keyed.post("/v1/feedback", json={"turn_id": turn + 99, "rating": "up"}, headers=auth("ann")), 404, "unknown-turn")

    first = keyed.post("/v1/feedback", json={"turn_id": turn, "rating": "up"}, headers=auth("ann")).json()
    body = {"turn_id": turn, "rating": "down", "wrong_citations": [2], "comment": "第二条引文不支持这句话"}
    changed = keyed.post("/v1/feedback", json=body, headers=auth("ann")).json()
    assert changed["feedback_id"] == first["feedback_id"], "given again, it replaces the first"
    assert (changed["rating"], changed["wrong_citations"], changed["comment"]) == ("down", [2], "第二条引文不支持这句话")
    assert changed["question"] == TALENT and changed["answer"] == answered["answer"]
    assert [c["quote"] for c in changed["citations"]] == [c["quote"] for c in answered["citations"]]
    assert changed["build_id"] == runtime_copy.library.current().build_id
    assert keyed.get(f"/v1/conversations/{cid}", headers=auth("ann")).json()["turns"][0]["feedback"] == {
        "rating": "down",
        "wrong_citations": [2],
        "comment": "第二条引文不支持这句话",
    }

    problem(keyed.get("/v1/feedback", headers=auth("ann")), 403, "forbidden")
    listed = keyed.get("/v1/feedback", headers=auth("ed")).json()["feedback"]
    assert [(f["feedback_id"], f["owner"], f["turn_id"]) for f in listed] == [(first["feedback_id"], "ann", turn)]

    metrics = keyed.get("/metrics").text
    assert 'silkqa_feedback_total{flagged="false",rating="up"} 1.0' in metrics
    assert 'silkqa_feedback_total{flagged="true",rating="down"} 1.0' in metrics
    assert "silkqa_feedback_wrong_citations_total 1.0" in metrics

    # Deleting the conversation keeps the feedback, with its copy of the answer.
    assert keyed.delete(f"/v1/conversations/{cid}", headers=auth("ann")).status_code == 204
    [kept] = keyed.get("/v1/feedback", headers=auth("ed")).json()["feedback"]
    assert kept["turn_id"] is None and kept["answer"] == answered["answer"]


def test_feedback_export_gives_eval_lines_that_silkqa_eval_runs(open_api, runtime_copy, monkeypatch, tmp_path, capsys):
    cid = new_conversation(open_api)
    good = open_api.post("/v1/ask", json={"question": TALENT, "conversation_id": cid}).json()
    refused = open_api.post("/v1/ask", json={"question": NOT_COVERED, "conversation_id": cid}).json()
    assert refused["abstained"] and not good["abstained"]
    open_api.post("/v1/feedback", json={"turn_id": good["turn_id"], "rating": "up", "wrong_citations": [2]})
    open_api.post("/v1/feedback", json={"turn_id": refused["turn_id"], "rating": "up"})

    monkeypatch.setenv("SILKQA_INDEX_DIR", str(runtime_copy.settings.index_dir))
    monkeypatch.setenv("SILKQA_CORPUS_DIR", str(runtime_copy.settings.corpus_dir))
    exported = tmp_path / "feedback.jsonl"
    assert cli.main(["feedback", "export", "--jsonl", "--out", str(exported)]) == 0
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    by_question = {line["question"]: line for line in lines}
    assert set(by_question) == {TALENT, NOT_COVERED}
    talent = by_question[TALENT]
    assert talent["answerable"] is True and talent["answer"] == good["answer"]
    assert [g["quote"] for g in talent["gold"]] == [c["quote"] for c in good["citations"] if c["marker"] != 2]
    assert by_question[NOT_COVERED]["answerable"] is False and by_question[NOT_COVERED]["gold"] == []

    items = load_eval_set(exported)
    documents = {d.meta.doc_id: d.text for d in runtime_copy.library.current().documents()}
    assert validate(items, documents) == []
    capsys.readouterr()
    assert cli.main(["eval", str(exported), "--out", str(tmp_path / "report")]) == 0
    assert "warning" not in capsys.readouterr().err
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert (report["n"], report["answerable"]) == (2, 1)
    assert report["metrics"]["citation_recall"]["value"] == 1.0, "the service still cites what the feedback kept as gold"


def test_with_a_postgresql_url_conversations_and_feedback_live_there(settings, snapshot, embedder, tmp_path):
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    with postgres_server() as url:
        own = runtime_over(settings, tmp_path / "index", snapshot, embedder, database_url=SecretStr(url))
        with TestClient(create_app(runtime=own)) as client:
            cid = new_conversation(client)
            answered = streamed(client, {"question": TALENT, "conversation_id": cid})
            client.post("/v1/feedback", json={"turn_id": answered["turn_id"], "rating": "up"}).raise_for_status()
        own.conversations.close()
        assert not (tmp_path / "index" / "conversations.sqlite3").exists(), "nothing went to the SQLite default"
        restarted = Runtime.open(own.settings, embedder)
        with TestClient(create_app(runtime=restarted)) as client:
            detail = client.get(f"/v1/conversations/{cid}").json()
            [feedback] = client.get("/v1/feedback").json()["feedback"]
        restarted.conversations.close()
    assert detail["turns"][0]["response"]["answer"] == answered["answer"]
    assert detail["turns"][0]["feedback"]["rating"] == "up" and feedback["question"] == TALENT
