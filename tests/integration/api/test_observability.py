"""What an operator sees, through the real app: /metrics (requests per route
and status, latency, per-stage timings, index size, abstention, rate limiting),
one JSON access-log line per request, /healthz and /readyz."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from silkqa.service.api.app import create_app
from silkqa.service.api.logs import JsonFormatter
from silkqa.service.api.middleware.observe import question_of

COVERED = "指导意见在人才队伍建设方面有哪些要求？"
NOT_COVERED = "What is the boiling point of liquid nitrogen at sea level?"


def _value(metrics: str, series: str) -> float:
    m = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", metrics, re.M)
    assert m, f"{series} not in /metrics"
    return float(m.group(1))


@pytest.fixture
def fresh(settings, runtime):
    """An app of its own, so its counters start at zero."""
    with TestClient(create_app(settings, runtime=runtime)) as client:
        yield client


def test_metrics_show_the_requests_just_made(snapshot, fresh, runtime):
    assert fresh.post("/v1/ask", json={"question": COVERED}).status_code == 200
    assert fresh.post("/v1/ask", json={"question": NOT_COVERED}).json()["abstained"]
    assert fresh.get("/v1/documents/opinion-2022").status_code == 200
    assert fresh.get("/v1/documents/no-such-doc").status_code == 404
    m = fresh.get("/metrics").text

    assert _value(m, 'silkqa_http_requests_total{method="POST",route="/v1/ask",status="200"}') == 2
    # Labelled by template, not by the raw path.
    assert _value(m, 'silkqa_http_requests_total{method="GET",route="/v1/documents/{doc_id}",status="200"}') == 1
    assert _value(m, 'silkqa_http_requests_total{method="GET",route="/v1/documents/{doc_id}",status="404"}') == 1
    assert "no-such-doc" not in m
    assert _value(m, 'silkqa_http_request_duration_seconds_count{method="POST",route="/v1/ask",status="200"}') == 2
    for stage in ("rewrite", "embed", "bm25", "dense", "fusion", "retrieve", "answer"):
        assert _value(m, f'silkqa_stage_duration_seconds_count{{stage="{stage}"}}') == 2
    assert _value(m, 'silkqa_answers_total{abstained="true",lang="en"}') == 1
    assert _value(m, 'silkqa_answers_total{abstained="false",lang="zh"}') == 1
    assert _value(m, "silkqa_abstention_ratio") == 0.5
    assert _value(m, "silkqa_index_documents") == len(snapshot.index.documents) == 5
    assert _value(m, "silkqa_index_chunks") == sum(d.chunk_count for d in snapshot.index.documents.values()) > 400
    assert _value(m, "silkqa_index_dense_units") == len(snapshot.index.units) > 1000
    assert _value(m, "silkqa_http_requests_in_flight") == 1  # the scrape itself


def test_metrics_follow_the_index_when_documents_change(settings, runtime_copy):
    with TestClient(create_app(settings, runtime=runtime_copy)) as client:
        before = _value(client.get("/metrics").text, "silkqa_index_chunks")
        assert client.delete("/v1/documents/opinion-2022").status_code == 200
        after = _value(client.get("/metrics").text, "silkqa_index_chunks")
    assert after == sum(d.chunk_count for d in runtime_copy.library.current().index.documents.values()) < before


def test_one_json_access_log_line_per_request_with_question_length_not_text(fresh, caplog):
    with caplog.at_level(logging.INFO, logger="silkqa.access"):
        r = fresh.post("/v1/ask", json={"question": COVERED}, headers={"X-Request-ID": "trace-123"})
    (record,) = [rec for rec in caplog.records if rec.name == "silkqa.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "trace-123" == r.headers["x-request-id"]
    assert line["route"] == "/v1/ask" and line["method"] == "POST" and line["status"] == 200
    assert line["level"] == "INFO" and line["duration_ms"] > 0 and line["key"] == "anonymous"
    assert line["question_chars"] == len(COVERED)
    assert "question" not in line and COVERED not in json.dumps(line, ensure_ascii=False)


def test_question_text_is_logged_only_when_enabled(settings, runtime, caplog):
    with TestClient(create_app(settings.model_copy(update={"log_questions": True}), runtime=runtime)) as client:
        with caplog.at_level(logging.INFO, logger="silkqa.access"):
            client.post("/v1/search", json={"query": "绿色交通"})
    (record,) = [rec for rec in caplog.records if rec.name == "silkqa.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["question"] == "绿色交通" and line["question_chars"] == 4


def test_refused_requests_are_logged_and_counted_too(settings, runtime, caplog):
    keyed = settings.model_copy(update={"api_keys": SecretStr("ops:reader:sq_observability_key_01")})
    with TestClient(create_app(keyed, runtime=runtime)) as client:
        with caplog.at_level(logging.INFO, logger="silkqa.access"):
            client.post("/v1/ask", json={"question": COVERED})
        m = client.get("/metrics").text
    (record,) = [r for r in caplog.records if r.name == "silkqa.access" and r.fields["route"] == "/v1/ask"]
    line = json.loads(JsonFormatter().format(record))
    assert line["status"] == 401 and line["key"] is None
    assert _value(m, 'silkqa_http_requests_total{method="POST",route="/v1/ask",status="401"}') == 1


@pytest.mark.parametrize(
    ("body", "question"),
    [
        (b'{"question": "\xe9\x97\xae\xe9\xa2\x98", "top_k": 3}', "问题"),
        (b'{"query": "green finance"}', "green finance"),
        (
            b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c?"}]}',
            "c?",
        ),
        (b'{"question": 5}', None),
        (b"[1, 2]", None),
        (b"{not json", None),
    ],
)
def test_question_of_request_bodies(body, question):
    assert question_of(body) == question


def test_healthz_and_readyz(snapshot, fresh, runtime):
    health = fresh.get("/healthz").json()
    assert health["status"] == "ok" and health["chunks"] == sum(d.chunk_count for d in snapshot.index.documents.values())
    ready = fresh.get("/readyz").json()
    assert ready == {"status": "ready", "checks": {"engine": "ok", "model": "ok", "index": "ok"}}


def test_readyz_is_503_when_the_loaded_index_disagrees_with_its_manifest(settings, runtime_copy):
    index = runtime_copy.library.current().index
    index.manifest = replace(index.manifest, chunk_count=index.manifest.chunk_count + 1)  # one chunk went missing
    with TestClient(create_app(settings, runtime=runtime_copy)) as client:
        r = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # alive, just not ready
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["checks"]["index"].startswith(f"chunks: {index.manifest.chunk_count - 1} loaded, manifest says")
    assert body["checks"]["model"] == "ok"
