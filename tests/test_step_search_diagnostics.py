"""benchmarks/step_search_diagnostics.py: its counting rules, and a report read from a real phi run."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from foresight.engine.transformers_engine import TransformersEngine
from foresight.eval.evaluate import evaluate
from foresight.strategies import make_strategy
from foresight.tasks.arith import TEST_SEED
from foresight.tasks.arith_task import ArithTask

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "step_search_diagnostics.py"
spec = importlib.util.spec_from_file_location("step_search_diagnostics", SCRIPT)
diagnostics = importlib.util.module_from_spec(spec)
spec.loader.exec_module(diagnostics)


def exact(prediction, gold):
    return prediction == gold


def test_pairwise_ranking_counts_right_over_wrong_pairs_with_ties_as_half():
    assert diagnostics.pairwise_ranking([0.9, 0.1, 0.5], [True, False, True]) == (2.0, 2)
    assert diagnostics.pairwise_ranking([0.2, 0.2, 0.7], [True, False, False]) == (0.5, 2)
    assert diagnostics.pairwise_ranking([0.3, 0.4], [True, True]) == (0.0, 0)


def test_weight_on_right_counts_only_mixed_steps():
    assert diagnostics.weight_on_right([0.6, 0.3, 0.1], [True, False, False]) == pytest.approx((0.6, 1 / 3))
    assert diagnostics.weight_on_right([0.0, 0.5, 0.5], [True, True, False]) == pytest.approx((0.5, 2 / 3))
    assert diagnostics.weight_on_right([0.5, 0.5], [True, True]) is None
    assert diagnostics.weight_on_right([0.0, 0.0], [True, False]) is None


def test_majority_ignores_missing_answers_and_needs_one():
    assert diagnostics.majority_is_right([None, None, "7", "7", "8"], "7", exact)
    assert not diagnostics.majority_is_right([None, None, None], "7", exact)
    assert not diagnostics.majority_is_right(["8", "8", "7"], "7", exact)


@pytest.fixture(scope="module")
def phi_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("diagnostics") / "phi"
    task = ArithTask(seed=TEST_SEED, size=4, steps=(4, 5))
    evaluate(task, make_strategy("phi", max_steps=4), TransformersEngine.from_spec("arith"), out, progress=False)
    return out


def test_report_of_a_real_phi_run_is_consistent_with_its_records(phi_run):
    result = diagnostics.diagnose(phi_run)
    records = [json.loads(line) for line in (phi_run / "records.jsonl").read_text().splitlines()]
    counts = result["counts"]
    assert result["questions"] == 4
    assert counts["chosen"] == sum(r["correct"] for r in records)
    assert counts["any final right"] >= counts["chosen"] and counts["any final right"] >= counts["vote over finals"]
    assert counts["any foresight path right"] >= counts["vote over all foresight paths"]
    assert sum(result["stops"].values()) == 4
    assert all(share is None or 0 <= share <= 1 for share in result["ranking"].values())
    assert result["mixed_steps"] == 0 or 0 <= result["weight_on_right"] <= 1
    assert result["filter"] is None  # the paper default has no positive-advantage filter
    printed = subprocess.run([sys.executable, str(SCRIPT), str(phi_run)], capture_output=True, text=True, timeout=300)
    assert printed.returncode == 0, printed.stderr
    assert "within-step ranking" in printed.stdout and "| F |" in printed.stdout and "stop reasons" in printed.stdout


def test_a_run_without_step_traces_is_refused(tmp_path):
    task = ArithTask(seed=TEST_SEED, size=2, steps=(4, 5))
    evaluate(task, make_strategy("cot"), TransformersEngine.from_spec("arith"), tmp_path / "cot", progress=False)
    with pytest.raises(SystemExit, match="no records with a gold answer and a step-search trace"):
        diagnostics.diagnose(tmp_path / "cot")
    with pytest.raises(SystemExit, match="not a run directory"):
        diagnostics.diagnose(tmp_path / "missing")
