"""The CI quality gate: the whole development set, in-process, against the
committed baseline (eval/baseline.json). Lowering the baseline is a deliberate
commit; a change that costs more than a metric's margin fails here."""

from __future__ import annotations

import json

import pytest

from silkqa.eval.dataset import load_eval_set
from silkqa.eval.metrics import METRICS
from silkqa.eval.runner import InProcessTarget, run
from tests.support.paths import ROOT

pytestmark = pytest.mark.stores  # also run with SILKQA_STORE=milvus

BASELINE = json.loads((ROOT / "eval" / "baseline.json").read_text())
LOWER_IS_BETTER = {"false_abstention"}


@pytest.fixture(scope="module")
def dev_results(runtime):
    return run(load_eval_set(ROOT / BASELINE["set"]), InProcessTarget.of(runtime)).results


@pytest.mark.parametrize("name", sorted(BASELINE["metrics"]))
def test_metric_holds_its_baseline(dev_results, name):
    value = METRICS[name](dev_results)
    baseline = BASELINE["metrics"][name]
    margin = BASELINE["margins"].get(name, BASELINE["margins"]["default"])
    if name in LOWER_IS_BETTER:
        assert value <= baseline + margin, f"{name} rose to {value:.3f} (baseline {baseline}, margin {margin})"
    else:
        assert value >= baseline - margin, f"{name} fell to {value:.3f} (baseline {baseline}, margin {margin})"


def test_every_citation_is_an_exact_span(dev_results):
    assert METRICS["citation_integrity"](dev_results) == 1.0
