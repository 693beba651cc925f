"""SmolLM2-135M-Instruct, the embedded real model, loads from its GGUF and generates."""

import pytest

from foresight.engine.types import GenerationRequest

pytestmark = pytest.mark.slow


def test_loads_and_generates_with_exact_logprobs(smollm2):
    import torch

    assert 130e6 < smollm2.num_parameters < 140e6
    prompt = smollm2.render_chat([{"role": "user", "content": "What is 2 + 3? Answer with a number."}])
    assert "<|im_start|>assistant" in prompt
    (completion,) = smollm2.generate([GenerationRequest(prompt, n=2, temperature=0.8, max_tokens=24, seed=1)])
    for sample in completion.samples:
        assert sample.num_tokens > 0 and sample.text.strip()
        ids = smollm2.encode_prompt(prompt)
        with torch.no_grad():
            logits = smollm2.model(torch.tensor([ids + list(sample.token_ids)])).logits[0].log_softmax(-1)
        expected = sum(logits[len(ids) - 1 + i, t].item() for i, t in enumerate(sample.token_ids))
        assert abs(sample.logprob - expected) < 1e-3


def test_cot_through_the_cli(tmp_path):
    import json
    import subprocess
    import sys

    data = tmp_path / "q.jsonl"
    data.write_text('{"question": "Tom has 3 apples and buys 4 more. How many apples does he have now?", "answer": 7}\n')
    result = subprocess.run(
        [sys.executable, "-m", "foresight.cli", "run", "--model", "smollm2", "--data", str(data), "--strategy", "cot",
         "--max-tokens", "64", "--out", str(tmp_path / "o"), "--no-progress"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in (tmp_path / "o" / "cot" / "records.jsonl").read_text().splitlines()]
    assert record["model"] == "smollm2" and record["generated_tokens"] > 0 and record["response"]


def test_phi_through_the_cli(tmp_path):
    import json
    import subprocess
    import sys

    data = tmp_path / "q.jsonl"
    data.write_text('{"question": "Tom has 3 apples and buys 4 more. How many apples does he have now?", "answer": 7}\n')
    result = subprocess.run(
        [sys.executable, "-m", "foresight.cli", "run", "--model", "smollm2", "--data", str(data), "--strategy", "phi",
         "--beams", "2", "--rollouts", "2", "--max-steps", "2", "--max-tokens", "48", "--out", str(tmp_path / "o"),
         "--no-progress"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in (tmp_path / "o" / "phi" / "records.jsonl").read_text().splitlines()]
    assert record["model"] == "smollm2" and 1 <= len(record["trace"]["steps"]) <= 2
    assert all(len(step["candidates"]) <= 4 for step in record["trace"]["steps"])
