"""What an outside audit did to the API, done again: stalled request bodies,
made-up HTTP methods, deeply nested JSON, clients leaving mid-upload, another
site's page posting a form to an open server, oversized histories, odd ids
and fields. Each was a 5xx, a hang or a leak before; each is a problem
document (or a clean refusal) now, with the server still answering."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from silkqa.service.api.app import create_app
from silkqa.service.api.logs import JsonFormatter
from tests.support.live import start_thread

QUESTION = "指导意见在人才队伍建设方面有哪些要求？"


def _problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == f"/problems/{slug}" and body["request_id"] == r.headers["x-request-id"]
    return body


def _stalled(url: str, path: str, declared: int = 200) -> socket.socket:
    """A client that sends its headers and the start of its body, then nothing."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    sock.sendall(head.encode() + b'{"question": "')
    return sock


def _metric(text: str, prefix: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


# --- 1. stalled bodies hold no worker slot and no in-flight place -------------------


@pytest.mark.slow
def test_stalled_request_bodies_hold_no_worker_slot_and_get_408(settings, runtime):
    """Three clients trickling their bodies (more than the two worker slots, and
    more than the in-flight limit of 2 here) leave /v1/ask and reads answering;
    after their route's `body_seconds` each gets 408 and its connection closed."""
    app = create_app(settings.model_copy(update={"cpu_workers": 2, "max_in_flight": 2}), runtime=runtime)
    server = start_thread(app)
    stalled = [_stalled(server.url, "/v1/ask") for _ in range(3)]
    try:
        time.sleep(0.5)  # the stalled requests are in, waiting for their bodies
        with httpx.Client(base_url=server.url, timeout=8) as http:
            for _ in range(3):
                r = http.post("/v1/ask", json={"question": QUESTION})
                assert r.status_code == 200 and r.json()["citations"], r.text
            assert http.get("/v1/documents").status_code == 200
        for sock in stalled:
            sock.settimeout(20)
            reply = b""
            while chunk := sock.recv(65536):  # to the end: the server closes the connection
                reply += chunk
            head, _, body = reply.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), reply[:300]
            assert json.loads(body)["type"] == "/problems/request-timeout"
    finally:
        for sock in stalled:
            sock.close()
        server.stop()


# --- 2. made-up methods mint no metric series ----------------------------------------


def test_made_up_methods_do_not_grow_metrics(client):
    for n in range(300):
        method = "X" * 990 + f"{n:010d}"
        assert client.request(method, "/v1/documents").status_code == 405
    metrics = client.get("/metrics")
    assert len(metrics.content) < 100_000, len(metrics.content)
    assert 'method="OTHER",route="/v1/documents",status="405"' in metrics.text
    assert "XXXX" not in metrics.text


# --- 7. deeply nested JSON ---------------------------------------------------------------


def test_deeply_nested_json_is_a_400_with_its_access_log_line(client, caplog):
    body = b"[" * 30000 + b"]" * 30000  # under the body limit
    with caplog.at_level(logging.INFO):
        r = client.post("/v1/ask", content=body, headers={"content-type": "application/json", "X-Request-ID": "deep-1"})
    assert "error parsing the body" in _problem(r, 400, "bad-request")["detail"]
    access = [rec for rec in caplog.records if rec.name == "silkqa.access" and rec.fields["request_id"] == "deep-1"]
    assert [rec.fields["status"] for rec in access] == [400]
    assert not [rec for rec in caplog.records if rec.exc_info]


# --- 8. errors: tracebacks carry the request id; a client leaving is not a 500 ---------


def test_a_traceback_is_logged_with_the_request_id(settings, runtime, caplog):
    app = create_app(settings, runtime=runtime)

    @app.get("/v1/test-failure")
    def fail():
        raise RuntimeError("boom")

    with caplog.at_level(logging.INFO), TestClient(app, raise_server_exceptions=False) as http:
        r = http.get("/v1/test-failure", headers={"X-Request-ID": "trace-me-7"})
    assert r.status_code == 500
    traced = [rec for rec in caplog.records if rec.exc_info]
    assert traced, "the failure is logged with its traceback"
    for record in traced:
        line = json.loads(JsonFormatter().format(record))
        assert line["request_id"] == "trace-me-7" and "RuntimeError: boom" in line["exception"]


def test_a_client_leaving_mid_upload_is_a_499_not_a_500(settings, runtime_copy, caplog):
    server = start_thread(create_app(runtime=runtime_copy))
    try:
        parts = urlsplit(server.url)
        with caplog.at_level(logging.INFO):
            sock = socket.create_connection((parts.hostname, parts.port))
            head = (
                f"POST /v1/documents HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 100000\r\n\r\n"
            )
            sock.sendall(head.encode() + b"--xyz\r\n" + b"a" * 1000)
            time.sleep(0.3)
            sock.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(r.name == "silkqa.access" for r in caplog.records):
                time.sleep(0.05)
        metrics = httpx.get(server.url + "/metrics").text
    finally:
        server.stop()
    access = [r for r in caplog.records if r.name == "silkqa.access"]
    assert [r.fields["status"] for r in access if r.fields["route"] == "/v1/documents"] == [499]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert 'route="/v1/documents",status="500"' not in metrics
    assert 'silkqa_http_requests_total{method="POST",route="/v1/documents",status="499"} 1.0' in metrics


# --- 9. validation -------------------------------------------------------------------------


def test_a_doc_id_with_a_trailing_newline_is_refused(runtime_copy):
    with TestClient(create_app(runtime=runtime_copy)) as http:
        r = http.post("/v1/documents", files={"file": ("n.txt", "澜湄合作的一份说明。".encode())}, data={"doc_id": "nl2\n"})
        assert "doc_id 'nl2\\n' is invalid" in _problem(r, 422, "invalid-document")["detail"]
        assert http.get("/v1/documents/nl2").status_code == 404


def test_json_text_of_control_characters_is_refused_like_a_binary_file(runtime_copy):
    with TestClient(create_app(runtime=runtime_copy)) as http:
        for body in ({"text": "\x00\x00"}, {"text": "澜湄合作的一份说明。", "title": "标题\x1b[31m"}):
            r = http.post("/v1/documents", json=body)
            assert "control characters" in _problem(r, 422, "invalid-document")["detail"]
        assert len(http.get("/v1/documents").json()["documents"]) == 5


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/ask", {"question": QUESTION, "top-k": 3}, "top-k"),
        ("/v1/search", {"query": QUESTION, "topk": 3}, "topk"),
        ("/v1/ask", {"question": QUESTION, "history": [{"role": "user", "content": "你好", "name": "x"}]}, "history.0.name"),
    ],
)
def test_unknown_fields_on_questions_are_refused(client, path, body, field):
    problem = _problem(client.post(path, json=body), 422, "invalid-request")
    assert field in [e["field"] for e in problem["errors"]]


# --- 10. headers on API responses -------------------------------------------------------


def test_api_responses_are_nosniff_and_never_stored(client):
    for r in (
        client.get("/v1/documents"),
        client.post("/v1/ask", json={"question": QUESTION}),
        client.get("/v1/documents/no-such-document"),
    ):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
    page = client.get("/")  # not an API response: the web page keeps its own caching
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers.get("cache-control") != "no-store"


# --- 5. another site's page writing to an open server -----------------------------------


def test_an_open_server_refuses_writes_another_sites_page_makes(runtime_copy):
    """With no keys everyone is an editor, so a page on any site could post a
    form to 127.0.0.1. Writes the browser marks as cross-site, from another
    origin, or under a name DNS could rebind are refused; the server's own page
    and clients that are not browsers still write."""
    note = {"text": "澜湄合作的一份说明：共建水质监测站。", "doc_id": "note"}
    with TestClient(create_app(runtime=runtime_copy)) as http:
        refused = [
            {"Origin": "https://evil.example", "Host": "127.0.0.1:8000"},
            {"Origin": "null", "Host": "127.0.0.1:8000"},
            {"Sec-Fetch-Site": "cross-site", "Host": "127.0.0.1:8000"},
            {"Origin": "http://localhost:3000", "Host": "localhost:8000", "Sec-Fetch-Site": "same-site"},
            {"Origin": "http://rebind.example:8000", "Host": "rebind.example:8000"},
        ]
        for headers in refused:
            r = http.post("/v1/documents", json=note, headers=headers)
            _problem(r, 403, "cross-site-write")
            assert http.delete("/v1/documents/guiding-opinion-2017", headers=headers).status_code == 403
        assert len(http.get("/v1/documents", headers={"Origin": "https://evil.example"}).json()["documents"]) == 5
        own_page = {"Origin": "http://127.0.0.1:8000", "Host": "127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
        assert http.post("/v1/documents", json=note, headers=own_page).status_code == 201
        assert (
            http.delete("/v1/documents/note", headers={"Origin": "http://localhost:8000", "Host": "localhost:8000"}).status_code
            == 200
        )
        assert http.post("/v1/documents", json=note).status_code == 201  # curl, the CLI: no Origin


# --- 6. history limits and the rewritten question ---------------------------------------


def test_history_has_limits_of_its_own(client, settings):
    cases = [[{"role": "user", "content": "指导意见" * 4750}]]  # a 19,000-character turn
    r = client.post("/v1/ask", json={"question": "它们有哪些？", "history": cases[0]})
    assert _problem(r, 422, "invalid-request")["detail"].startswith("history: ")
    cases += [
        [{"role": "assistant", "content": "答" * (settings.max_history_turn_chars + 1)}],
        [{"role": "user", "content": "问题？"}] * (settings.max_history_turns + 1),
    ]
    for history in cases:
        r = client.post("/v1/ask", json={"question": "它们有哪些？", "history": history})
        assert _problem(r, 422, "invalid-request")["detail"].startswith("history: ")
    chat = {"model": "silkqa", "messages": [*cases[0], {"role": "user", "content": "它们有哪些？"}]}
    assert _problem(client.post("/v1/chat/completions", json=chat), 422, "invalid-request")["detail"].startswith("messages: ")
    published = client.get("/openapi.json").json()["components"]["schemas"]
    assert published["AskRequest"]["properties"]["history"]["maxItems"] == settings.max_history_turns
    assert published["HistoryTurn"]["properties"]["content"]["maxLength"] == settings.max_history_turn_chars


def test_a_rewritten_follow_up_is_held_to_the_question_limit(client, settings):
    previous = ("指导意见在人才队伍建设方面有哪些要求，" * 60)[: settings.max_question_chars - 1] + "？"
    r = client.post("/v1/ask", json={"question": "它们有哪些？", "history": [{"role": "user", "content": previous}]})
    assert r.status_code == 200, r.text
    rewritten = r.json()["rewritten_question"]
    assert rewritten is None or len(rewritten) <= settings.max_question_chars


# --- 11. a request over the in-flight limit waits briefly instead of spinning ---------------


def test_a_request_over_the_in_flight_limit_waits_for_a_place(settings, runtime):
    """Shedding at once made clients that retry at once spin the server on
    refusals; a request over the limit now waits (up to
    SILKQA_IN_FLIGHT_WAIT_SECONDS, holding no thread) for one to finish."""
    app = create_app(settings.model_copy(update={"max_in_flight": 1}), runtime=runtime)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://silkqa") as http:
            ask = asyncio.create_task(http.post("/v1/ask", json={"question": QUESTION, "top_k": 20}))
            await asyncio.sleep(0.05)  # the ask holds the one place
            started = time.perf_counter()
            listing = await http.get("/v1/documents")
            return await ask, listing, time.perf_counter() - started

    with ThreadPoolExecutor(1) as pool:
        ask, listing, waited = pool.submit(asyncio.run, scenario()).result()
    assert ask.status_code == 200 and listing.status_code == 200, listing.text
    assert waited < settings.in_flight_wait_seconds + 0.5
