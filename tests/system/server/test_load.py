"""Short runs of the load test (bench/load.py) and the soak (bench/soak.py)
in CI: 16 concurrent clients for 5 seconds against a real `silkqa serve`,
every request answered and /healthz answering throughout; 15 seconds of the
soak's mix of requests with a document update, no errors. The long runs and
their figures are in bench/RESULTS.md; timings are measured there, not
asserted here."""

from __future__ import annotations

import pytest

from bench.load import bench_server, rss_mb, run_load
from bench.soak import run_soak, soak_server

pytestmark = pytest.mark.slow


def test_sixteen_concurrent_clients_get_answers_and_healthz_keeps_answering(settings, runtime, tmp_path):
    with bench_server(settings.index_dir, tmp_path) as server:
        result = run_load(server.url, concurrency=16, duration=5)
        assert rss_mb(server) > 0
    assert result.errors == 0, result.error_samples
    assert result.requests >= 16
    assert result.healthz_max_ms > 0  # the probe got answers while all 16 clients were busy


def test_a_short_soak_with_an_update_has_no_errors(settings, runtime, tmp_path):
    with soak_server(settings.index_dir, tmp_path) as server:
        result = run_soak(server, rate=10, duration=15, first_update=3)
    assert result.errors == 0, result.error_samples
    assert result.updates == 1 and result.requests >= 50
