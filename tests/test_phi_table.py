"""The Table 1 runner: every method on every task, resumable, in the paper's layout."""

from __future__ import annotations

import json

from foresight.eval.phi_table import run_table, table_markdown, write_table
from foresight.eval.runs import load_run
from foresight.strategies import make_strategy
from foresight.tasks.arith_task import ArithTask


def test_the_table_has_a_row_per_method_and_a_column_per_task(tmp_path, arith_engine):
    tasks = [ArithTask(size=3)]
    methods = [make_strategy("cot"), make_strategy("sc", n=2)]
    runs = run_table(tasks, methods, arith_engine, tmp_path, seed=0, limit=3, batch_size=16, progress=False)
    assert [(r["task"], r["strategy"]) for r in runs] == [("arith", "cot"), ("arith", "sc@2")]
    lines = table_markdown(runs).splitlines()
    assert lines[0] == "| method | arith | avg. | paper FLOPs | acc. per 1e12 FLOPs | vs phi |"
    cot = lines[2].split(" | ")
    assert cot[0] == "| cot" and cot[1] == f"{100 * runs[0]['accuracy']:.1f}" == cot[2]
    assert float(cot[3]) == float(f"{runs[0]['total_paper_flops']:.3g}")
    expected = 100 * runs[0]["accuracy"] / (runs[0]["total_paper_flops"] / 3 / 1e12)
    assert cot[4] == f"{expected:.3g}" and cot[5] == "- |"  # no phi row to compare with
    written = write_table(runs, tmp_path / "table")
    assert (tmp_path / "table" / "phi_table.md").read_text() == table_markdown(runs)
    assert any(p.suffix == ".png" for p in written)


def test_a_rerun_computes_only_what_is_missing(tmp_path, arith_engine):
    task, cot = ArithTask(size=4), make_strategy("cot")
    run_table([task], [cot], arith_engine, tmp_path, seed=0, limit=2, batch_size=16, progress=False)
    first = (tmp_path / "arith" / "cot" / "records.jsonl").read_text()
    run_table([task], [cot], arith_engine, tmp_path, seed=0, limit=4, batch_size=16, progress=False)
    assert (tmp_path / "arith" / "cot" / "records.jsonl").read_text().startswith(first)
    assert load_run(tmp_path / "arith" / "cot")["questions"] == 4


def test_ratios_are_taken_against_phi():
    runs = [
        {"task": "a", "strategy": "cot", "accuracy": 0.5, "total_paper_flops": 1e12, "questions": 10, "model": "m"},
        {"task": "a", "strategy": "phi", "accuracy": 0.6, "total_paper_flops": 1e13, "questions": 10, "model": "m"},
        {"task": "b", "strategy": "phi", "accuracy": 0.8, "total_paper_flops": 1e13, "questions": 10, "model": "m"},
    ]
    lines = table_markdown(runs).splitlines()
    assert lines[2] == "| cot | 50.0 | - | 50.0 | 1e+12 | 500 | 7.14x |"  # 50 points at 1e11 per question
    assert lines[3] == "| phi | 60.0 | 80.0 | 70.0 | 2e+13 | 70 | 1.00x |"


def test_the_command_writes_the_table_and_names_bad_input(tmp_path, capsys):
    from foresight.cli import main

    out = tmp_path / "table"
    flags = ["paper", "phi-table", "--tasks", "arith", "--methods", "cot,sc", "--n", "2", "--limit", "2",
             "--out", str(out), "--no-progress"]
    assert main(flags) == 0
    printed = capsys.readouterr().out
    assert printed == (out / "phi_table.md").read_text() and "| sc@2 |" in printed
    assert sorted(p.name for p in (out / "arith").iterdir()) == ["cot", "sc@2"]
    for bad, message in ((["--methods", "cot,nope"], "unknown strategy 'nope'"),
                         (["--tasks", "arith,arith"], "--tasks needs distinct task names"),
                         (["--tasks", "nope"], "unknown task 'nope'")):
        assert main(["paper", "phi-table", "--model", "/no/such/model", *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("foresight: error: ") and message in err and err.count("\n") == 1


def test_the_benchmark_seed_is_a_task_of_its_own(tmp_path, capsys):
    from foresight.cli import main
    from foresight.tasks import stream_task

    out = tmp_path / "table"
    assert main(["paper", "phi-table", "--benchmark-seed", "--methods", "cot", "--limit", "2", "--out", str(out), "--no-progress"]) == 0
    records = [json.loads(line) for line in (out / "arith" / "cot" / "records.jsonl").read_text().splitlines()]
    benchmark = stream_task("arith", "benchmark", 300).questions()
    assert [r["id"] for r in records] == [q.id for q in benchmark[:2]]
    assert [q.id for q in stream_task("arith", "heldout", 2).questions()] != [r["id"] for r in records]
    capsys.readouterr()
    assert main(["paper", "phi-table", "--benchmark-seed", "--tasks", "gsm8k", "--model", "/no/such/model"]) == 2
    assert "task 'gsm8k' generates no problems" in capsys.readouterr().err
