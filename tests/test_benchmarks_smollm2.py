"""A real model on real benchmark questions, end to end: SmolLM2 runs cot and phi (small
budgets) on the first 10 GSM8K and 10 ARC-Challenge questions into run directories, then
`foresight report` builds the table and the plots from their records.

The runs go through the library on the session's one SmolLM2 engine (the `run` command's own
path for SmolLM2 is covered in test_smollm2.py); budgets are small so that this stays within a
few minutes on 2 busy cores.
"""

import csv
import json
import subprocess
import sys

import matplotlib.image
import pytest

from foresight.eval.evaluate import evaluate
from foresight.strategies import make_strategy
from foresight.tasks import load_task

pytestmark = [pytest.mark.slow, pytest.mark.benchmark_data]


def test_smollm2_on_gsm8k_and_arc_through_records_report_and_plot(tmp_path, smollm2):
    strategies = [make_strategy("cot", max_tokens=48),
                  make_strategy("phi", beams=2, rollouts=2, max_steps=2, max_step_tokens=24, max_tokens=16)]
    for name in ("gsm8k", "arc"):
        task = load_task(name)
        for strategy in strategies:
            evaluate(task, strategy, smollm2, tmp_path / name / strategy.label, limit=10, progress=False)
            records = [json.loads(line) for line in (tmp_path / name / strategy.label / "records.jsonl").read_text().splitlines()]
            assert sorted(r["id"] for r in records) == sorted(f"{name}-{i}" for i in range(10))
            for record in records:
                assert record["model"] == "smollm2" and record["generated_tokens"] > 0
                assert record["no_answer"] == (record["prediction"] is None)
                assert record["correct"] == task.is_correct(task.extract_answer(record["response"]), record["gold"])
                if name == "arc":
                    assert record["prediction"] is None or record["prediction"] in "ABCDE"
                if strategy.name == "phi":
                    assert 1 <= len(record["trace"]["steps"]) <= 2

    report = subprocess.run([sys.executable, "-m", "foresight.cli", "report", str(tmp_path / "gsm8k"), str(tmp_path / "arc"),
                             "--out", str(tmp_path / "report")], capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    rows = {(r["task"], r["strategy"]): r for r in csv.DictReader((tmp_path / "report" / "report.csv").open())}
    assert set(rows) == {("gsm8k", "cot"), ("gsm8k", "phi"), ("arc", "cot"), ("arc", "phi")}
    for (name, label), row in rows.items():
        summary = json.loads((tmp_path / name / label / "summary.json").read_text())
        assert int(row["questions"]) == 10 and float(row["accuracy"]) == summary["accuracy"]
        assert int(row["no_answer"]) == summary["no_answer"]
        assert f"| {name} | {label} |" in report.stdout
    for name in ("gsm8k", "arc"):
        assert float(rows[name, "phi"]["total_paper_flops"]) > float(rows[name, "cot"]["total_paper_flops"])
        image = matplotlib.image.imread(tmp_path / "report" / f"accuracy_vs_flops_{name}.png")
        assert image.shape[0] > 200 and image.shape[1] > 200
