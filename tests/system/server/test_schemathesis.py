"""Schemathesis against the live OpenAPI document of a real `silkqa serve`
(bench/fuzz.py): every documented operation fuzzed with every check on, and
the server's own metrics counting what it answered. CI runs 15 examples per
operation (several hundred requests); the full run is in bench/RESULTS.md."""

from __future__ import annotations

import pytest

from bench.fuzz import OUTPUT, run
from silkqa.service.api.app import create_app

pytestmark = pytest.mark.slow


def test_schemathesis_finds_no_server_error_and_no_schema_violation(settings, runtime):
    documented = create_app(settings, runtime=runtime).openapi()["paths"]
    operations = sum(len(methods) for methods in documented.values())

    result = run(settings.index_dir, max_examples=15)

    assert result.server_errors == 0, result.statuses
    assert result.failures == [], f"see {OUTPUT}"
    assert result.operations_tested == operations
    assert result.requests >= 300 and result.statuses.get("200", 0) >= 50
