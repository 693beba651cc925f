"""The command line end to end: runs, resume after SIGKILL, and every bad input."""

import json
import signal
import subprocess
import time

import pytest
from conftest import FORESIGHT, foresight, read_records


def test_run_writes_records_summary_and_table_then_resumes(tmp_path):
    out = tmp_path / "out"
    done = foresight("run", "--task", "arith", "--strategy", "cot,bon", "--n", "3", "--limit", "4", "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "cot" in done.stdout and "bon@3" in done.stdout and "accuracy" in done.stdout
    records = read_records(out / "bon@3" / "records.jsonl")
    assert len(records) == 4
    fields = {"id", "question", "gold", "prediction", "correct", "response", "generated_tokens",
              "prompt_tokens", "paper_flops", "inference_flops", "trace", "config_hash", "model", "seed"}
    assert fields <= set(records[0])
    summary = json.loads((out / "bon@3" / "summary.json").read_text())
    assert summary["questions"] == 4 and summary["accuracy"] == sum(r["correct"] for r in records) / 4
    assert json.loads((out / "cot" / "config.json").read_text())["identity"]["strategy"]["name"] == "cot"

    again = foresight("run", "--task", "arith", "--strategy", "bon", "--n", "3", "--limit", "6", "--out", str(out), "--no-progress")
    assert again.returncode == 0, again.stderr
    extended = read_records(out / "bon@3" / "records.jsonl")
    assert [r["id"] for r in extended[:4]] == [r["id"] for r in records]
    assert len(extended) == 6 and len({r["id"] for r in extended}) == 6


def test_sigkill_loses_only_questions_in_flight(tmp_path):
    out = tmp_path / "out"
    args = ["run", "--task", "arith", "--strategy", "sc", "--n", "4", "--limit", "40", "--batch-size", "4",
            "--out", str(out), "--no-progress"]
    records_path = out / "sc@4" / "records.jsonl"
    process = subprocess.Popen(FORESIGHT + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and (not records_path.exists() or len(records_path.read_text().splitlines()) < 3):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = read_records(records_path)
    assert 3 <= len(before) < 40
    finished = foresight(*args)
    assert finished.returncode == 0, finished.stderr
    after = read_records(records_path)
    assert [r["id"] for r in after[: len(before)]] == [r["id"] for r in before]
    assert len(after) == 40 and len({r["id"] for r in after}) == 40


def test_resumed_results_equal_an_uninterrupted_run(tmp_path):
    args = ["run", "--task", "arith", "--strategy", "sc", "--n", "3", "--no-progress"]
    assert foresight(*args, "--limit", "3", "--out", str(tmp_path / "a")).returncode == 0
    assert foresight(*args, "--limit", "5", "--out", str(tmp_path / "a")).returncode == 0
    assert foresight(*args, "--limit", "5", "--out", str(tmp_path / "b")).returncode == 0
    resumed = {r["id"]: r["response"] for r in read_records(tmp_path / "a" / "sc@3" / "records.jsonl")}
    straight = {r["id"]: r["response"] for r in read_records(tmp_path / "b" / "sc@3" / "records.jsonl")}
    assert resumed == straight


def jsonl(tmp_path, text):
    path = tmp_path / "q.jsonl"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "beam"], "unknown strategy 'beam'"),
        (["--task", "nosuch"], "unknown task 'nosuch'"),
        (["--model", "/nonexistent/model"], "model '/nonexistent/model': no such file or directory"),
        (["--limit", "0"], "argument --limit: must be at least 1"),
        (["--strategy", "sc", "--n", "0"], "--n must be at least 1"),
        (["--strategy", "cot", "--n", "4"], "--n does not apply to strategy cot"),
    ],
)
def test_bad_arguments_fail_on_one_line(tmp_path, args, message):
    result = foresight("run", "--out", str(tmp_path / "o"), "--no-progress", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_paths_that_are_not_models(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text('{"model_type": "llama"}')
    (tmp_path / "fake.gguf").write_text("not a gguf")
    (tmp_path / "notes.txt").write_text("x")
    cases = {"empty": "has no config.json", "broken": "could not be loaded", "fake.gguf": "not a GGUF file",
             "notes.txt": "a model file must be a .gguf file"}
    for name, message in cases.items():
        result = foresight("run", "--model", str(tmp_path / name), "--out", str(tmp_path / "o"), "--limit", "1")
        assert result.returncode == 2 and message in result.stderr, (name, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_bad_jsonl_names_the_line(tmp_path):
    path = jsonl(tmp_path, '{"question": "1+1?", "answer": 2}\n{"question": 3\n')
    result = foresight("run", "--data", path, "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "q.jsonl:2: not valid JSON" in result.stderr
    result = foresight("run", "--data", jsonl(tmp_path, '{"question": "1+1?"}\n'), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "q.jsonl:1: missing field 'answer'" in result.stderr


def test_unwritable_out(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = foresight("run", "--out", str(blocker / "sub"), "--limit", "1")
    assert result.returncode == 2 and "is not writable" in result.stderr


def test_changed_config_in_existing_out_is_refused_and_records_kept(tmp_path):
    out = tmp_path / "o"
    assert foresight("run", "--strategy", "sc", "--n", "2", "--limit", "2", "--out", str(out), "--no-progress").returncode == 0
    records = (out / "sc@2" / "records.jsonl").read_text()
    refused = foresight("run", "--strategy", "sc", "--n", "2", "--temperature", "0.9", "--limit", "2", "--out", str(out))
    assert refused.returncode == 2 and "different config" in refused.stderr and "strategy" in refused.stderr
    assert (out / "sc@2" / "records.jsonl").read_text() == records


def test_user_jsonl_questions_run(tmp_path):
    path = jsonl(tmp_path, '{"id": "q1", "question": "Mia has 12 pens. Mia finds 30 pens. How many pens does Mia have now?", "answer": "42"}\n')
    result = foresight("run", "--data", path, "--strategy", "cot", "--out", str(tmp_path / "o"), "--no-progress")
    assert result.returncode == 0, result.stderr
    (record,) = read_records(tmp_path / "o" / "cot" / "records.jsonl")
    assert record["id"] == "q1" and record["gold"] == "42" and record["task"] == "jsonl"
    assert f"foresight: scoring the answers of {path} as math (inferred from its golds" in result.stderr


def test_phi_run_then_show_prints_the_search_tree(tmp_path):
    out = tmp_path / "o"
    result = foresight("run", "--strategy", "phi", "--max-steps", "4", "--limit", "2", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    (first, _) = read_records(out / "phi" / "records.jsonl")
    assert first["trace"]["steps"] and first["trace"]["stop_reason"] in {"depth_threshold", "identical_foresight", "max_steps", "all_beams_finished"}
    summary = json.loads((out / "phi" / "summary.json").read_text())
    assert "step_value_accuracy" in summary and summary["discriminative_steps"] >= 0
    shown = foresight("show", str(out / "phi"), "--id", first["id"])
    assert shown.returncode == 0, shown.stderr
    assert "step 1" in shown.stdout and "selected" in shown.stdout and "foresight:" in shown.stdout
    assert "final completions" in shown.stdout and "chosen" in shown.stdout
    missing = foresight("show", str(out / "phi"), "--id", "nope")
    assert missing.returncode == 2 and "no question 'nope' among 2 records" in missing.stderr
