"""Runs and inputs a user can trust (issue 16): nothing lost, nothing mixed, no traceback.

Each test here failed on the main branch of the day the issue was filed: a corrupt middle
record line dropped every record after it, a second writer into one directory was let in, a
changed data file resumed its old records, a smaller --limit rewrote summary.json for a subset,
and bad flags ended in tracebacks (some after the model had loaded and config.json was written).
"""

import json
import math
import os
import signal
import subprocess
import time

import pytest
from conftest import FORESIGHT, foresight

from foresight.cli import main
from foresight.errors import RunDirError
from foresight.eval.evaluate import evaluate
from foresight.eval.runs import config_hash, find_run_dirs, load_run
from foresight.strategies import make_strategy
from foresight.tasks import load_task
from foresight.tasks.arith_task import ArithTask

def lines(path):
    return path.read_text().splitlines()


def test_a_corrupt_middle_line_is_set_aside_and_every_record_counts(tmp_path, arith_engine):
    task, cot = ArithTask(size=6), make_strategy("cot")
    run = tmp_path / "cot"
    evaluate(task, cot, arith_engine, run, progress=False)
    records = lines(run / "records.jsonl")
    (run / "records.jsonl").write_text("\n".join(records[:2] + ['{"id": "arith-1-2", "gold"', "{}"] + records[2:]) + "\n")
    assert load_run(run)["questions"] == 6  # report: all good records, the bad lines named and skipped
    summary = evaluate(task, cot, arith_engine, run, progress=False)  # the rerun computes nothing
    assert summary["questions"] == 6 and lines(run / "records.jsonl") == records
    assert [json.loads(m)["line"] for m in lines(run / "records.rejected.jsonl")] == [3, 4]


def test_records_of_another_config_are_refused_not_summed(tmp_path, arith_engine):
    task = ArithTask(size=3)
    evaluate(task, make_strategy("sc", n=2), arith_engine, tmp_path / "sc@2", progress=False)
    evaluate(task, make_strategy("sc", n=3), arith_engine, tmp_path / "sc@3", progress=False)
    foreign = lines(tmp_path / "sc@3" / "records.jsonl")[0]
    with open(tmp_path / "sc@2" / "records.jsonl", "a") as handle:
        handle.write(foreign + "\n")
    with pytest.raises(RunDirError, match=r"sc@2/records.jsonl:4: a record of another run"):
        load_run(tmp_path / "sc@2")
    with pytest.raises(RunDirError, match=r"sc@2/records.jsonl:4: a record of another run"):
        evaluate(task, make_strategy("sc", n=2), arith_engine, tmp_path / "sc@2", progress=False)
    result = foresight("report", str(tmp_path / "sc@2"), "--out", str(tmp_path / "report"))
    assert result.returncode == 2 and "records.jsonl:4: a record of another run" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_changed_data_file_is_a_different_run(tmp_path, arith_engine):
    data = tmp_path / "q.jsonl"
    data.write_text('{"question": "Mia has 12 pens. Mia finds 30 pens. How many pens does Mia have now?", "answer": 42}\n')
    evaluate(load_task(None, str(data)), make_strategy("cot"), arith_engine, tmp_path / "cot", progress=False)
    data.write_text(data.read_text().replace("42", "43"))
    with pytest.raises(RunDirError, match="different config .*differs in: source"):
        evaluate(load_task(None, str(data)), make_strategy("cot"), arith_engine, tmp_path / "cot", progress=False)


def test_a_smaller_limit_leaves_the_summary_whole(tmp_path, arith_engine):
    task, cot = ArithTask(size=4), make_strategy("cot")
    full = evaluate(task, cot, arith_engine, tmp_path / "cot", limit=4, progress=False)
    again = evaluate(task, cot, arith_engine, tmp_path / "cot", limit=2, progress=False)
    saved = json.loads((tmp_path / "cot" / "summary.json").read_text())
    assert again["questions"] == saved["questions"] == 4 and saved["correct"] == full["correct"]
    assert saved["total_generated_tokens"] == full["total_generated_tokens"] and saved["limit"] == 2
    assert saved["strategy_config"] == {"name": "cot", "max_tokens": 512} and saved["foresight_version"]
    assert saved["started_at"] <= saved["finished_at"] and isinstance(saved["command"], list)
    assert load_run(tmp_path / "cot")["questions"] == 4


def test_a_second_run_into_the_same_directory_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "out"
    args = ["run", "--strategy", "sc", "--n", "4", "--limit", "500", "--batch-size", "4", "--out", str(out), "--no-progress"]
    first = subprocess.Popen(FORESIGHT + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        records = out / "sc@4" / "records.jsonl"
        deadline = time.time() + 300
        while time.time() < deadline and not (records.exists() and records.read_text()):
            time.sleep(0.05)
        second = foresight(*args)
        assert second.returncode == 2 and f"is being written by another foresight process (pid {first.pid})" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1 and first.poll() is None
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    ids = [json.loads(text)["id"] for text in lines(records)]
    assert len(ids) == len(set(ids))


def test_genius_pairs_on_records_that_lack_values_fails_on_one_line(tmp_path, capsys):
    identity = {"kind": "genius-sample", "source": "s", "resampling": {"exploration_temperature": 0.1}, "model": "arith", "seed": 0}
    (tmp_path / "config.json").write_text(json.dumps({"identity": identity, "hash": config_hash(identity)}))
    record = {"id": "q", "messages": [], "generated_tokens": 1, "paper_flops": 1.0,
              "steps": [{"step": 1, "candidates": [{"trajectory": "t", "A": 0.0}]}]}
    (tmp_path / "records.jsonl").write_text(json.dumps(record) + "\n{}\n")
    assert exit_code(["-v", "genius", "pairs", str(tmp_path), "--out", str(tmp_path / "pairs.jsonl")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1] == f"foresight: error: {tmp_path}/records.jsonl: has no usable records; run `foresight genius sample` first"
    assert not (tmp_path / "pairs.jsonl").exists()


BAD_FLAGS = [
    (["--strategy", "phi", "--width-k", "nan"], "--width-k must be a finite number of at least 0"),
    (["--strategy", "phi", "--advantage-temperature", "0"], "--advantage-temperature must be a finite number above 0"),
    (["--strategy", "sc", "--top-p", "0"], "--top-p must be in (0, 1], got 0.0"),
    (["--strategy", "sc", "--top-p", "1.5"], "--top-p must be in (0, 1], got 1.5"),
    (["--strategy", "sc", "--temperature", "nan"], "--temperature must be a finite number above 0, got nan"),
    (["--strategy", "sc", "--temperature", "0"], "--temperature must be a finite number above 0"),
    (["--max-tokens", "0"], "--max-tokens must be between 1 and 131072, got 0"),
    (["--max-tokens", "100000000"], "--max-tokens must be between 1 and 131072, got 100000000"),
    (["--strategy", "predictive", "--rollouts", "0"], "--rollouts must be at least 1, got 0"),
    (["--threads", "0"], "argument --threads: must be at least 1, got 0"),
    (["--threads", str(10 * (os.cpu_count() or 1))], "--threads must be at most"),
    (["--seed", "-1"], "argument --seed: must be between 0 and 4294967295, got -1"),
    (["--seed", str(2**40)], "argument --seed: must be between 0 and"),
    (["--limit", "0"], "argument --limit: must be at least 1, got 0"),
    (["--limit", "-3"], "argument --limit: must be at least 1, got -3"),
    (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["--n", "2.5", "--strategy", "sc"], "argument --n: invalid int value: '2.5'"),
    (["--server", "http://127.0.0.1:9", "--concurrency", "0"], "argument --concurrency: must be at least 1, got 0"),
    (["--server", "http://127.0.0.1:9", "--timeout", "0"], "argument --timeout: must be a finite number above 0, got 0"),
    (["--server", "http://127.0.0.1:9", "--retry-delay", "-1"], "argument --retry-delay: must be a finite number of at least 0"),
    (["--server", "http://127.0.0.1:9", "--retries", "-1"], "argument --retries: must be at least 0, got -1"),
    (["--server", "http://127.0.0.1:9", "--num-parameters", "0"], "argument --num-parameters: must be at least 1, got 0"),
    (["--concurrency", "4"], "--concurrency applies only with --server"),
    (["--strategy", "cot,sc,cot"], "--strategy names cot twice"),
    (["--answer-format", "math"], "--answer-format applies to your own --data FILE.jsonl"),
    (["--task", ""], "unknown task ''"),
    (["--data", ""], "--data needs a file path, got an empty one"),
    (["--model", ""], "--model needs a name"),
]


def exit_code(argv):
    """`foresight ARGV` in-process: its return code, or argparse's exit code."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


@pytest.mark.parametrize(("args", "message"), BAD_FLAGS)
def test_each_bad_flag_is_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "o"
    assert exit_code(["-v", "run", "--out", str(out), *args]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("foresight: error: ") and message in error[0], error
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["genius", "sample", "--queries", "2", "--exploration-temperature", "0", "--out", "OUT"],
         "--exploration-temperature must be a finite number above 0, got 0.0"),
        (["genius", "train", "--pairs", "p.jsonl", "--out", "OUT", "--warmup", "1.5"], "argument --warmup: must be in [0, 1), got 1.5"),
        (["genius", "train", "--pairs", "p.jsonl", "--out", "OUT", "--beta", "0"], "argument --beta: must be a finite number above 0"),
        (["genius", "train", "--pairs", "p.jsonl", "--out", "OUT", "--lora-rank", "-1"], "argument --lora-rank: must be at least 0"),
        (["genius", "run", "--out", "OUT", "--eval-questions", "0"], "argument --eval-questions: must be at least 1, got 0"),
        (["genius", "pairs", "OUT", "--out", "OUT/p.jsonl", "--seed", "-2"], "argument --seed: must be between 0 and"),
        (["sweep", "--strategy", "sc", "--n", "2", "--top-p", "0", "--out", "OUT"], "--top-p must be in (0, 1], got 0.0"),
    ],
)
def test_bad_genius_and_sweep_flags_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "o"
    code = exit_code(["-v", *[arg.replace("OUT", str(out)) for arg in args]])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1 and error[0].startswith("foresight: error: ") and message in error[0], error
    assert not out.exists()


def test_a_bad_flag_stops_before_the_model_loads_without_a_traceback(tmp_path):
    """On main `--top-p 0` failed inside the engine, after the model had loaded, with a
    traceback, and left a config.json behind."""
    result = foresight("run", "--strategy", "sc", "--top-p", "0", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == "foresight: error: --top-p must be in (0, 1], got 0.0\n"
    assert not (tmp_path / "o").exists()


def test_piped_output_is_the_results_table_and_nothing_else(tmp_path):
    """`foresight run ... 2>/dev/null | cat`: no loading bars, warnings or progress on stdout;
    and none of the libraries' noise on stderr either, only our progress bar."""
    result = foresight("run", "--strategy", "cot", "--limit", "2", "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    table = result.stdout.splitlines()
    assert table[0].strip() == "foresight results" and len(table) == 6
    assert all(row[0] in "┏┃┡│└" for row in table[1:]) and "│ arith │ cot " in table[4]
    assert "Loading" not in result.stderr and "Warning" not in result.stderr and "cot" in result.stderr
    as_json = foresight("run", "--strategy", "cot", "--limit", "2", "--out", str(tmp_path / "o"), "--json")
    (summary,) = json.loads(as_json.stdout)["runs"]
    assert summary["questions"] == 2 and math.isclose(summary["accuracy"], summary["correct"] / 2)
    assert find_run_dirs([tmp_path / "o"]) == [tmp_path / "o" / "cot"]
