"""Limits and errors through the real app: body size, question length, top_k,
requests in flight, the per-key rate limit, the worker slots; every error a
problem document with a request id, and no stack trace ever sent."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from silkqa.service.api.app import create_app
from silkqa.service.api.middleware.limits import rate_item

KEY = "sq_limits_reader_key_0000001"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUESTION = "2022年的意见在绿色交通方面要推广哪些交通工具？"


def _run(coroutine):
    """asyncio.run in a thread of its own: a session fixture of another test
    module (the browser tests') may be running an event loop in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "request_id"} <= set(body) and body["status"] == status
    assert body["request_id"] == r.headers["x-request-id"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


def test_every_bad_request_gets_a_problem_document_with_a_request_id(client):
    cases = [
        (lambda: client.post("/v1/ask", content=b'{"question": ', headers={"content-type": "application/json"}), 400),
        (lambda: client.post("/v1/ask", json={"question": "   "}), 422),
        (lambda: client.post("/v1/ask", json={"question": "问" * 1001}), 422),
        (lambda: client.post("/v1/ask", json={"question": QUESTION, "top_k": 21}), 422),
        (lambda: client.post("/v1/ask", json={"question": QUESTION, "top_k": "5"}), 422),
        (lambda: client.post("/v1/search", json={"query": 7}), 422),
        (lambda: client.get("/v1/documents/no-such-document"), 404),
        (lambda: client.get("/v1/no-such-route"), 404),
        (lambda: client.delete("/v1/ask"), 405),
        (lambda: client.post("/v1/ask", content=b"{" + b" " * 300_000 + b"}", headers={"content-type": "application/json"}), 413),
    ]
    ids = set()
    for call, status in cases:
        ids.add(_problem(call(), status)["request_id"])
    assert len(ids) == len(cases)  # one id per request


def test_405_lists_every_method_the_path_has(client):
    r = client.patch("/v1/documents/guiding-opinion-2017")
    _problem(r, 405)
    assert set(r.headers["allow"].split(", ")) == {"GET", "PUT", "DELETE"}


def test_a_callers_request_id_is_kept_and_a_hostile_one_replaced(client):
    r = client.get("/v1/documents/nope", headers={"X-Request-ID": "lb-7f3a.42"})
    assert r.headers["x-request-id"] == "lb-7f3a.42" and r.json()["request_id"] == "lb-7f3a.42"
    r = client.get("/v1/documents/nope", headers={"X-Request-ID": "<script>"})
    assert r.headers["x-request-id"] != "<script>" and len(r.headers["x-request-id"]) == 32


def test_an_unexpected_failure_is_a_500_problem_without_the_trace(settings, runtime):
    app = create_app(settings, runtime=runtime)

    @app.get("/v1/test-failure")
    def fail():
        raise RuntimeError("secret internal state: /srv/silkqa/var/index")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/v1/test-failure")
        body = _problem(r, 500)
        assert "secret internal state" not in r.text and "RuntimeError" not in r.text
        assert body["detail"] == "The server failed to handle this request."
        metrics = client.get("/metrics").text
    assert 'silkqa_http_requests_total{method="GET",route="/v1/test-failure",status="500"} 1.0' in metrics


def test_the_rate_and_burst_become_a_moving_window_of_whole_seconds():
    assert (rate_item(20, 40).amount, rate_item(20, 40).get_expiry()) == (40, 2)  # the defaults
    assert (rate_item(0.2, 2).amount, rate_item(0.2, 2).get_expiry()) == (2, 10)
    assert (rate_item(50, 10).amount, rate_item(50, 10).get_expiry()) == (50, 1)  # a window is at least a second


def test_a_key_over_its_rate_gets_429_with_retry_after_and_is_counted(settings, runtime):
    limited = settings.model_copy(
        update={"api_keys": SecretStr(f"bot:reader:{KEY}"), "rate_limit_per_second": 0.2, "rate_limit_burst": 2}
    )
    with TestClient(create_app(limited, runtime=runtime)) as client:
        assert [client.get("/v1/documents", headers=AUTH).status_code for _ in range(2)] == [200, 200]
        r = client.post("/v1/ask", json={"question": QUESTION}, headers=AUTH)
        body = _problem(r, 429)
        assert 1 <= int(r.headers["retry-after"]) <= 10  # 2 requests in any 10 s
        assert "'bot' may make 0.2 requests a second" in body["detail"]
        assert client.get("/healthz").status_code == 200  # probes are not rate-limited
        metrics = client.get("/metrics").text
    assert "silkqa_rate_limited_total 1.0" in metrics and '"bot"' not in metrics  # key names stay off public /metrics
    assert 'silkqa_http_requests_total{method="POST",route="/v1/ask",status="429"} 1.0' in metrics


async def _concurrently(app, requests):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://silkqa") as client:
        return await asyncio.gather(*(client.request(m, p, json=b) for m, p, b in requests))


def test_requests_beyond_the_in_flight_limit_get_503_at_once(settings, runtime):
    app = create_app(
        settings.model_copy(update={"max_in_flight": 2, "cpu_workers": 1, "in_flight_wait_seconds": 0}), runtime=runtime
    )
    asks = [("POST", "/v1/ask", {"question": QUESTION, "top_k": 20})] * 6
    responses = _run(_concurrently(app, asks + [("GET", "/healthz", None)]))
    statuses = [r.status_code for r in responses[:-1]]
    assert statuses.count(200) == 2 and statuses.count(503) == 4
    busy = next(r for r in responses if r.status_code == 503)
    assert _problem(busy, 503)["title"] == "Service busy" and busy.headers["retry-after"] == "1"
    assert responses[-1].status_code == 200  # probes are never shed


def test_cpu_bound_requests_queue_for_worker_slots_and_healthz_does_not(settings, runtime):
    app = create_app(settings.model_copy(update={"cpu_workers": 1}), runtime=runtime)
    questions = [
        QUESTION,
        "指导意见在人才队伍建设方面有哪些要求？",
        "绿色金融",
        "How much clean electricity does the Mozura wind farm supply?",
    ] * 2

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://silkqa") as client:
            order = []

            async def call(name, method, path, body=None):
                r = await client.request(method, path, json=body)
                order.append(name)
                return r

            asks = [call(f"ask{i}", "POST", "/v1/ask", {"question": q}) for i, q in enumerate(questions)]
            tasks = [asyncio.create_task(c) for c in asks]
            await asyncio.sleep(0)  # the asks are queued first
            health = await call("healthz", "GET", "/healthz")
            answers = await asyncio.gather(*tasks)
            metrics = (await client.get("/metrics")).text
            return order, health, answers, metrics

    order, health, answers, metrics = _run(scenario())
    assert health.status_code == 200 and all(a.status_code == 200 for a in answers)
    assert order.index("healthz") < len(questions)  # answered while asks were still queued
    assert all(a.json()["citations"] or a.json()["abstained"] for a in answers)
    assert f"silkqa_worker_queue_seconds_count {float(len(questions))}" in metrics
