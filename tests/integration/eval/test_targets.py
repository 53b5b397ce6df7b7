"""In-process eval and eval against a live server (``--url``) give the same
numbers: both ask the same question path."""

from __future__ import annotations

import pytest

from silkqa.eval.dataset import load_eval_set
from silkqa.eval.runner import HttpTarget, InProcessTarget, run
from silkqa.service.api.app import create_app
from tests.support.live import serve
from tests.support.paths import EVAL


@pytest.fixture(scope="module")
def live_server(runtime):
    with serve(create_app(runtime=runtime)) as url:
        yield url


def test_http_target_gives_the_same_numbers_as_in_process(runtime, live_server):
    subset = load_eval_set(EVAL / "dev.jsonl")[::12]
    assert len(subset) >= 12
    local = run(subset, InProcessTarget.of(runtime))
    remote = run(subset, HttpTarget(live_server))

    def comparable(result):
        return {k: v for k, v in vars(result).items() if k != "timings_ms"}

    assert [comparable(r) for r in remote.results] == [comparable(r) for r in local.results]
    assert [r.answer for r in remote.records] == [r.answer for r in local.records]
