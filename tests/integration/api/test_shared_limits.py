"""Replicas sharing one Redis enforce one rate per key: two app instances,
each under uvicorn on its own port, a real redis-server started here, and a
client spreading one key's requests over both. Without Redis each process
counts on its own (and the key gets twice the rate)."""

from __future__ import annotations

import itertools

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from silkqa.service.api.app import create_app
from tests.support.live import free_port, start_thread
from tests.support.redisserver import redis_server

KEY = "sq_shared_limits_key_000001"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _statuses(settings, runtime, redis_url: str | None, requests: int) -> list[int]:
    # 5 requests in any 50 s: no request of this test leaves the window.
    limited = settings.model_copy(
        update={
            "api_keys": SecretStr(f"bot:reader:{KEY}"),
            "rate_limit_per_second": 0.1,
            "rate_limit_burst": 5,
            "redis_url": SecretStr(redis_url) if redis_url else None,
        }
    )
    replicas = [start_thread(create_app(limited, runtime=runtime)) for _ in range(2)]
    try:
        clients = [httpx.Client(base_url=r.url, timeout=30, headers=AUTH) for r in replicas]
        statuses = [client.get("/v1/documents").status_code for client, _ in zip(itertools.cycle(clients), range(requests))]
        refused = clients[0].get("/v1/documents")
        if refused.status_code == 429:
            assert 1 <= int(refused.headers["retry-after"]) <= 50
        for client in clients:
            client.close()
        return statuses
    finally:
        for r in replicas:
            r.stop()


def test_two_replicas_sharing_redis_enforce_one_rate_per_key(settings, runtime, tmp_path):
    with redis_server(tmp_path) as url:
        statuses = _statuses(settings, runtime, url, 12)
    assert statuses.count(200) == 5 and statuses.count(429) == 7, statuses
    assert statuses[:5] == [200] * 5  # the burst, spread over both replicas


def test_without_redis_each_replica_counts_on_its_own(settings, runtime):
    statuses = _statuses(settings, runtime, None, 12)
    assert statuses.count(200) == 10, statuses


def test_an_unreachable_redis_lets_requests_through_and_says_so(settings, runtime, caplog):
    limited = settings.model_copy(
        update={
            "api_keys": SecretStr(f"bot:reader:{KEY}"),
            "rate_limit_per_second": 0.1,
            "rate_limit_burst": 1,
            "redis_url": SecretStr(f"redis://127.0.0.1:{free_port()}/0"),  # nothing listens there
        }
    )
    with TestClient(create_app(limited, runtime=runtime)) as client:
        assert [client.get("/v1/documents", headers=AUTH).status_code for _ in range(3)] == [200, 200, 200]
    assert any("rate limit storage unavailable" in r.getMessage() for r in caplog.records)
