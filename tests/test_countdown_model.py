"""The embedded countdown model: it ships in the package, loads offline, answers in the task's
format and the step check's format, and runs under φ through the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np

from foresight.engine.loading import resolve_model
from foresight.engine.transformers_engine import TransformersEngine
from foresight.engine.types import GenerationRequest
from foresight.models import countdown_model_dir
from foresight.tasks.countdown import STEP_RE, TEST_SEED, make_problems
from foresight.tasks.countdown_judge import CORRECT, INCORRECT, step_check_example, vote_example
from foresight.tasks.countdown_task import CountdownTask


def test_the_model_ships_in_the_package_and_loads_offline():
    directory = countdown_model_dir()
    assert (directory / "model.safetensors").stat().st_size < 8_000_000
    assert (directory / "TRAINING.md").read_text().count("foresight build-model countdown") >= 1
    code = ("import os; os.environ['HF_HUB_OFFLINE']='1'; os.environ['TRANSFORMERS_OFFLINE']='1'\n"
            "from foresight.engine.transformers_engine import TransformersEngine\n"
            "e = TransformersEngine.from_spec('countdown'); print(e.model_id, e.num_parameters)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "countdown" and int(done.stdout.split()[1]) > 100_000
    assert resolve_model("countdown").directory == directory


def test_answers_open_with_phis_prefix_one_step_per_line_and_judge_answers_parse():
    engine = TransformersEngine.from_spec("countdown", max_batch_size=32)
    task = CountdownTask(seed=TEST_SEED, size=8)
    prompts = [engine.render_chat(task.messages(q)) + "The reasoning steps are:\n\n" for q in task.questions()]
    completions = engine.generate([GenerationRequest(p, temperature=0.0, max_tokens=120) for p in prompts])
    texts = [c.samples[0].text for c in completions]
    for text in texts:
        lines = text.strip().split("\n")
        assert lines[-1].startswith("The answer is ") and all(STEP_RE.match(line) for line in lines[:-1]), text
    problems = make_problems(TEST_SEED, 8)
    rng = np.random.default_rng(0)
    checks = [step_check_example(rng, p.numbers, p.target).prompt for p in problems]
    requests = [GenerationRequest(engine.render_chat([{"role": "user", "content": u}]), temperature=0.0, max_tokens=8)
                for u in checks]
    answers = [c.samples[0].text.strip() for c in engine.generate(requests)]
    assert all(a in (CORRECT, INCORRECT) for a in answers), answers
    votes = [vote_example(rng, p.numbers, p.target) for p in problems]
    requests = [GenerationRequest(engine.render_chat([{"role": "user", "content": v.prompt}]), temperature=0.0, max_tokens=8)
                for v in votes]
    picks = [c.samples[0].text.strip() for c in engine.generate(requests)]
    choices = [v.prompt.count("Choice ") for v in votes]
    assert all(re.fullmatch(r"The best choice is (\d)", a) and 1 <= int(a[-1]) <= n for a, n in zip(picks, choices)), picks


def test_phi_runs_on_countdown_through_the_cli(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "foresight.cli", "run", "--task", "countdown", "--model", "countdown",
         "--strategy", "phi", "--beams", "2", "--rollouts", "2", "--limit", "2", "--out", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (out / "phi" / "records.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["task"] == "countdown" and r["model"] == "countdown" for r in records)
    task = CountdownTask()
    for record in records:
        assert record["correct"] == task.is_correct(task.extract_answer(record["response"]), record["gold"])
        assert record["trace"]["steps"]
