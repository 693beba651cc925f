"""`foresight report` and `foresight sweep` on real runs of the embedded model; few-shot prompts;
questions with no extracted answer are recorded and counted."""

import csv
import json
from pathlib import Path

import matplotlib.image
import pytest
from conftest import foresight

from foresight.errors import DataError
from foresight.eval.evaluate import evaluate
from foresight.eval.runs import find_run_dirs, load_run
from foresight.strategies import make_strategy
from foresight.tasks import load_task
from foresight.tasks.arith_task import ArithTask

def assert_png(path: Path):
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 200


def test_report_tables_and_plot_from_run_directories(tmp_path, arith_engine):
    task = ArithTask(size=4)
    out = tmp_path / "runs"
    summaries = [evaluate(task, make_strategy(name, **options), arith_engine, out / label, progress=False)
                 for name, options, label in (("cot", {}, "cot"), ("sc", {"n": 2}, "sc@2"), ("sc", {"n": 4}, "sc@4"))]
    result = foresight("report", str(out), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert "| task | strategy | budget |" in result.stdout and "| arith | sc@4 | n=4 | arith | 4 |" in result.stdout
    rows = list(csv.DictReader((tmp_path / "report" / "report.csv").open()))
    assert [r["strategy"] for r in rows] == ["cot", "sc@2", "sc@4"]  # ordered by paper FLOPs
    for row, summary in zip(rows, summaries):
        assert float(row["accuracy"]) == summary["accuracy"]
        assert int(row["total_generated_tokens"]) == summary["total_generated_tokens"]
        assert float(row["total_paper_flops"]) == pytest.approx(summary["total_paper_flops"])
        assert float(row["wall_time_s"]) == pytest.approx(summary["wall_time_s"])
    assert (tmp_path / "report" / "report.md").read_text() in result.stdout
    assert_png(tmp_path / "report" / "accuracy_vs_flops_arith.png")


def test_a_report_reads_records_without_touching_them(tmp_path, arith_engine):
    run = tmp_path / "cot"
    evaluate(ArithTask(size=3), make_strategy("cot"), arith_engine, run, progress=False)
    with open(run / "records.jsonl", "a") as handle:
        handle.write('{"id": "torn')  # a session killed mid-write
    before = (run / "records.jsonl").read_text()
    (summary,) = [load_run(path) for path in find_run_dirs([tmp_path])]
    assert summary["questions"] == 3 and summary["budget"] == "-" and summary["strategy"] == "cot"
    assert (run / "records.jsonl").read_text() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "/nonexistent/runs"], "/nonexistent/runs: no such run directory"),
        (["sweep", "--strategy", "phi"], "sweep needs a budget grid"),
        (["sweep", "--strategy", "phi,sc", "--beams", "1,2"], "sweep runs one strategy"),
        (["sweep", "--strategy", "phi", "--beams", "0,2"], "expected integers of at least 1"),
        (["sweep", "--strategy", "phi", "--n", "2,4"], "--n does not apply to strategy phi"),
        (["run", "--task", "math500"], "task 'math500' is not shipped"),
        pytest.param(["run", "--task", "gsm8k", "--few-shot", "/nonexistent/shots.jsonl"], "/nonexistent/shots.jsonl: no such file",
                     marks=pytest.mark.benchmark_data),
    ],
)
def test_bad_report_and_sweep_arguments_fail_on_one_line(tmp_path, args, message):
    result = foresight(*args, *(["--out", str(tmp_path / "o")] if args[0] != "report" else []))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_folder_without_runs_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    result = foresight("report", str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "not a run directory (no config.json) and no run directories inside" in result.stderr


def test_sweep_runs_the_grid_and_draws_the_curve(tmp_path):
    out = tmp_path / "sweep"
    result = foresight("sweep", "--task", "arith", "--strategy", "phi", "--beams", "1,2", "--rollouts", "2",
                       "--max-steps", "2", "--limit", "2", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in find_run_dirs([out])) == ["phi-M1-N2", "phi-M2-N2"]
    for beams in (1, 2):
        identity = json.loads((out / f"phi-M{beams}-N2" / "config.json").read_text())["identity"]
        assert identity["strategy"]["beams"] == beams and identity["strategy"]["max_steps"] == 2
    assert "| arith | phi | M=1 N=2 |" in result.stdout and "| arith | phi | M=2 N=2 |" in result.stdout
    assert_png(out / "accuracy_vs_flops_arith.png")
    again = foresight("sweep", "--task", "arith", "--strategy", "phi", "--beams", "1,2", "--rollouts", "2",
                      "--max-steps", "2", "--limit", "2", "--out", str(out), "--no-progress")
    assert again.returncode == 0 and len((out / "phi-M2-N2" / "records.jsonl").read_text().splitlines()) == 2


def test_few_shot_turns_are_rendered_through_the_chat_template(tmp_path, arith_engine):
    shots = tmp_path / "shots.jsonl"
    shots.write_text(json.dumps({"question": "Sam has 2 pens. Sam finds 3 pens. How many pens does Sam have now?",
                                 "solution": "2 + 3 = 5\nThe answer is 5."}) + "\n")
    plain, shown = load_task("arith"), load_task("arith", few_shot=str(shots))
    question = plain.questions()[0]
    messages = shown.messages(question)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    prompt = arith_engine.render_chat(messages)
    assert prompt.startswith("Question: Sam has 2 pens.") and "Answer:\n2 + 3 = 5\nThe answer is 5.</s>" in prompt
    assert prompt.endswith(f"Question: {question.text}\nAnswer:\n")
    assert shown.source != plain.source and str(shots.resolve()) in shown.source
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\n')
    with pytest.raises(DataError, match="bad.jsonl:1: missing field 'solution'"):
        load_task("arith", few_shot=str(bad))


def test_questions_without_an_answer_are_recorded_and_counted(tmp_path, arith_engine):
    data = tmp_path / "gsm.json"
    data.write_text(json.dumps([{"input": "Mia has 12 pens. Mia finds 30 pens. How many pens does Mia have now?", "target": 42.0}] * 2))
    summary = evaluate(load_task("gsm8k", str(data)), make_strategy("cot", max_tokens=3), arith_engine,
                       tmp_path / "cut", progress=False)
    records = [json.loads(line) for line in (tmp_path / "cut" / "records.jsonl").read_text().splitlines()]
    assert all(r["no_answer"] and r["prediction"] is None and not r["correct"] for r in records)
    assert summary["no_answer"] == 2 and summary["answered"] == 0 and summary["accuracy"] == 0.0
    full = evaluate(load_task("gsm8k", str(data)), make_strategy("cot"), arith_engine, tmp_path / "full", progress=False)
    assert full["no_answer"] == 0 and full["correct"] == 2
