"""Genius on the real tiny model: re-sampling records, TRL training steps with the ACO loss, and
the command line from unlabeled queries to a checkpoint other commands load."""

import json
import subprocess

import pytest
import torch
from conftest import FORESIGHT, foresight

from foresight.engine.loading import load_model_and_tokenizer, resolve_model
from foresight.genius.pairs import build_pairs, read_sampling_run
from foresight.genius.queries import load_queries
from foresight.genius.resampling import ResamplingConfig
from foresight.genius.sample import sample

@pytest.fixture(scope="module")
def sampled(arith_engine, tmp_path_factory):
    out = tmp_path_factory.mktemp("genius") / "sample"
    sample(load_queries(task="arith", count=3), ResamplingConfig(), arith_engine, out, seed=0, progress=False)
    return out


def test_resampling_records_values_advantages_and_selections(sampled):
    identity, records = read_sampling_run(sampled)
    assert identity["resampling"]["beams"] == 2 and len(records) == 3
    for record in records:
        first = record["steps"][0]
        assert len(first["candidates"]) == 2 * 4  # M·N candidates from the two (identical) start beams
        assert all(c["A"] == pytest.approx(c["f"]) for c in first["candidates"])  # Q = 0 at the start
        assert sum(c["selected"] for c in first["candidates"]) == 2 == len(first["accepted"])
        assert all(c["trajectory"].startswith("The reasoning steps are:\n\n" + c["step"]) for c in first["candidates"])
        if len(record["steps"]) > 1 and not any(first["candidates"][i]["terminal"] for i in first["accepted"]):
            parents = [first["candidates"][i] for i in first["accepted"]]
            for c in record["steps"][1]["candidates"]:
                assert c["A"] == pytest.approx(c["f"] - parents[c["beam"]]["f"])
                assert c["trajectory"].startswith("The reasoning steps are:\n\n" + parents[c["beam"]]["step"] + "\n")


def test_same_seed_same_trajectories_and_a_rerun_resumes(arith_engine, sampled, tmp_path):
    again = tmp_path / "again"
    sample(load_queries(task="arith", count=3), ResamplingConfig(), arith_engine, again, seed=0, progress=False)
    assert read_sampling_run(again)[1] == read_sampling_run(sampled)[1]
    before = (again / "records.jsonl").read_text()
    summary = sample(load_queries(task="arith", count=3), ResamplingConfig(), arith_engine, again, seed=0, progress=False)
    assert (again / "records.jsonl").read_text() == before and summary["queries"] == 3


def make_trainer(rows, out, loss="aco", **overrides):
    from datasets import Dataset

    from foresight.genius.trainer import GeniusConfig, GeniusTrainer

    model, tokenizer = load_model_and_tokenizer(resolve_model("arith"))
    settings = dict(output_dir=str(out), loss=loss, learning_rate=1e-4, per_device_train_batch_size=len(rows),
                    max_steps=1, report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True, seed=0)
    config = GeniusConfig(**(settings | overrides))
    return GeniusTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)


def pair_rows(sampled, count=8):
    rows = build_pairs(read_sampling_run(sampled)[1], 0.1)[0][:count]
    keep = ("prompt", "chosen", "rejected", "advantage_chosen", "advantage_rejected")
    return [{k: row[k] for k in keep} for row in rows]


def test_training_sequences_are_the_engines_prompt_plus_the_trajectory(sampled, arith_engine, tmp_path):
    rows = pair_rows(sampled, 2)
    trainer = make_trainer(rows, tmp_path)
    tokenizer = trainer.processing_class
    example = trainer.train_dataset[0]
    expected_prompt = arith_engine.encode_prompt(arith_engine.render_chat(rows[0]["prompt"]))
    assert example["prompt_ids"] == expected_prompt
    assert tokenizer.decode(example["chosen_ids"]) == rows[0]["chosen"][0]["content"] + tokenizer.eos_token


def test_one_step_changes_the_weights_lowers_the_batch_loss_and_uses_the_advantages(sampled, tmp_path):
    rows = pair_rows(sampled)
    trainer = make_trainer(rows, tmp_path)
    batch = next(iter(trainer.get_train_dataloader()))
    assert sorted(batch["advantage_chosen"].tolist()) == pytest.approx(sorted(r["advantage_chosen"] for r in rows))
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    with torch.no_grad():
        loss_before = trainer.compute_loss(trainer.model, dict(batch)).item()
    trainer.train()
    with torch.no_grad():
        loss_after = trainer.compute_loss(trainer.model, dict(batch)).item()
    assert any(not torch.equal(before[name], p) for name, p in trainer.model.named_parameters())
    assert loss_after < loss_before

    # After the step the policy differs from the reference, so the ACO weight matters:
    normal, calibration = dict(batch), dict(batch)
    normal["advantage_rejected"] = batch["advantage_chosen"] - 1.0  # A_l < A_w: w = 1, plain DPO
    calibration["advantage_rejected"] = batch["advantage_chosen"] + 3.0  # A_l > A_w: w = e^-3
    with torch.no_grad():
        aco_normal = trainer.compute_loss(trainer.model, normal).item()
        aco_calibrated = trainer.compute_loss(trainer.model, calibration).item()
        trainer.args.loss = "dpo"
        dpo = trainer.compute_loss(trainer.model, dict(batch)).item()
        trainer.args.loss = "sft"
        sft = trainer.compute_loss(trainer.model, dict(batch)).item()
        trainer.args.loss, trainer.args.nll_weight = "dpo", 0.5
        dpo_with_nll = trainer.compute_loss(trainer.model, dict(batch)).item()
    assert aco_normal == pytest.approx(dpo, rel=1e-6)
    assert aco_calibrated != pytest.approx(dpo, rel=1e-4)
    assert dpo_with_nll == pytest.approx(dpo + 0.5 * sft, rel=1e-6)  # --nll-weight reaches the trainer's loss


def test_the_loss_refuses_a_batch_whose_advantages_were_dropped(sampled, tmp_path):
    trainer = make_trainer(pair_rows(sampled, 4), tmp_path)
    batch = dict(next(iter(trainer.get_train_dataloader())))
    del batch["advantage_chosen"], batch["advantage_rejected"]
    with pytest.raises(ValueError, match="advantage_chosen, advantage_rejected"):
        trainer.compute_loss(trainer.model, batch)


def test_cli_from_unlabeled_queries_to_a_lora_checkpoint_that_runs(tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"question": q}) + "\n" for q in (
        "Mia has 12 apples. Mia finds 5 apples. Mia loses 3 apples. Mia buys 2 bags with 4 apples each. How many apples does Mia have now?",
        "Sam has 30 coins. Sam sells 7 coins. Sam gets 9 coins from Ava. Sam finds 4 coins. How many coins does Sam have now?",
    )))
    done = foresight("genius", "sample", "--queries-file", str(queries), "--out", str(tmp_path / "sample"), "--steps", "2", "--no-progress")
    assert done.returncode == 0, done.stderr
    done = foresight("genius", "pairs", str(tmp_path / "sample"), "--out", str(tmp_path / "pairs.jsonl"))
    assert done.returncode == 0, done.stderr
    pairs = json.loads(done.stdout.split("\npairs:")[0])["pairs"]
    assert 2 <= pairs <= 4  # one per step, unless every other trajectory of a step repeats the best one
    done = foresight("genius", "train", "--pairs", str(tmp_path / "pairs.jsonl"), "--out", str(tmp_path / "model"),
                     "--lora-rank", "4", "--learning-rate", "1e-3", "--train-batch-size", "2")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "model" / "genius_training.json").read_text())
    assert report["steps"] == (pairs + 1) // 2 == len(report["loss_curve"]) and report["lora_rank"] == 4
    done = foresight("run", "--model", str(tmp_path / "model"), "--limit", "2", "--out", str(tmp_path / "eval"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "eval" / "cot" / "summary.json").read_text())["questions"] == 2


@pytest.mark.parametrize("args, message", [
    (["genius", "sample", "--queries", "2", "--queries-file", "q.jsonl", "--out", "X"], "either as --queries-file FILE.jsonl or as --queries N"),
    (["genius", "sample", "--queries", "0", "--out", "X"], "argument --queries: must be at least 1, got 0"),
    (["genius", "run", "--losses", "aco,kto"], "unknown loss 'kto'"),
    (["genius", "run", "--rounds", "0"], "argument --rounds: must be at least 1, got 0"),
    (["genius", "run", "--eval-split", "test"], "argument --eval-split: invalid choice: 'test'"),
    (["genius", "run", "--task", "gsm8k", "--queries-file", "q.jsonl", "--eval-split", "validation"],
     "--eval-split validation: task 'gsm8k' has no generated validation problems"),
])
def test_genius_bad_arguments_fail_on_one_line(tmp_path, args, message):
    done = subprocess.run(FORESIGHT + args, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_training_on_pairs_without_weight_columns_fails_on_one_line(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "a"}],
                                 "rejected": [{"role": "assistant", "content": "b"}]}) + "\n")
    done = foresight("genius", "train", "--pairs", str(pairs), "--out", str(tmp_path / "m"))
    assert done.returncode == 2 and "missing column(s) advantage_chosen, advantage_rejected" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_genius_run_trains_evaluates_and_resumes(tmp_path):
    out = tmp_path / "genius"
    args = ("genius", "run", "--queries", "4", "--eval-questions", "6", "--losses", "aco,dpo", "--steps", "2",
            "--train-batch-size", "4", "--out", str(out), "--no-progress")
    done = foresight(*args)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["results"]) == {"base", "aco", "dpo"}
    assert all(result["eval"]["questions"] == 6 for result in summary["results"].values())
    assert summary["pairs"]["queries"] == 4 and 0 <= summary["pairs"]["chosen_correct_share"] <= 1
    assert (out / "models" / "aco" / "config.json").is_file() and (out / "pairs.jsonl").is_file()
    trained = (out / "models" / "aco" / "model.safetensors").read_bytes()
    again = foresight(*args)  # everything is on disk: nothing is retrained
    assert again.returncode == 0, again.stderr
    assert (out / "models" / "aco" / "model.safetensors").read_bytes() == trained
    assert "Genius on arith" in again.stdout
    changed = foresight(*args, "--learning-rate", "3e-5")  # a model trained otherwise is not reused
    assert changed.returncode == 2 and "trained with other settings (differs in: learning_rate)" in changed.stderr


def test_genius_run_on_countdown_trains_each_pair_ranking_without_reading_a_label(tmp_path):
    from safetensors.torch import load_file

    from foresight.tasks import unlabeled_stream

    out = tmp_path / "genius"
    done = foresight("genius", "run", "--task", "countdown", "--model", "countdown", "--queries", "3",
                     "--eval-questions", "4", "--losses", "aco", "--no-foresight-losses", "aco", "--steps", "2",
                     "--train-batch-size", "2", "--learning-rate", "1e-3", "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"] == "countdown" and set(summary["results"]) == {"base", "aco", "aco-no-foresight"}
    assert summary["results"]["aco-no-foresight"]["pairs"] == "step" and set(summary["pair_variants"]) == {"foresight", "step"}
    assert all(result["eval"]["questions"] == 4 for result in summary["results"].values())
    base = load_file(resolve_model("countdown").directory / "model.safetensors")
    for name in ("aco", "aco-no-foresight"):
        trained = load_file(out / "models" / name / "model.safetensors")
        assert max((trained[k] - base[k]).abs().max().item() for k in base) > 1e-4  # training moved the weights
    # The golds of the queries ("V from a b c") appear nowhere in what sampling, pairs and training read.
    golds = [q.gold for q in unlabeled_stream("countdown", 3).questions()]
    written = "".join(p.read_text() for p in [out / "sample" / "records.jsonl", out / "sample" / "config.json",
                                               out / "pairs.jsonl", out / "pairs-no-foresight.jsonl"])
    assert golds and not any(gold in written for gold in golds)
    report = foresight("genius", "report", str(out))
    assert report.returncode == 0 and "aco-no-foresight" in report.stdout and "pairs by step" in report.stdout


@pytest.mark.parametrize("args, message", [
    (["genius", "run", "--task", "gsm8k"], "task 'gsm8k' generates no problems"),
    (["genius", "report", "/no/such/run"], "no summary.json"),
])
def test_genius_task_errors_are_one_line(args, message):
    done = foresight(*args)
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1


def test_genius_second_round_samples_with_the_first_rounds_model_and_trains_on_from_it(tmp_path):
    from safetensors.torch import load_file

    from foresight.tasks import stream_task

    out = tmp_path / "genius"
    done = foresight("genius", "run", "--task", "countdown", "--model", "countdown", "--queries", "3",
                     "--eval-questions", "3", "--losses", "aco", "--rounds", "2", "--eval-split", "validation",
                     "--steps", "2", "--train-batch-size", "2", "--learning-rate", "1e-3", "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["results"]) == {"base", "aco", "aco-round2"} and summary["scored_on"]["split"] == "validation"
    sampled_by = json.loads((out / "rounds" / "2" / "aco" / "sample" / "config.json").read_text())["identity"]["model"]
    assert sampled_by.endswith("models/aco") and summary["rounds"]["aco-round2"]["from"] == "aco"
    first, second = (load_file(out / "models" / name / "model.safetensors") for name in ("aco", "aco-round2"))
    assert max((second[k] - first[k]).abs().max().item() for k in first) > 1e-4  # round 2 trained on from round 1
    validation = [q.id for q in stream_task("countdown", "validation", 3).questions()]
    scored = [json.loads(line)["id"] for line in (out / "eval-validation" / "aco-round2" / "records.jsonl").open()]
    assert sorted(scored) == sorted(validation) and not (out / "eval").exists()
    report = foresight("genius", "report", str(out))
    assert report.returncode == 0 and "aco-round2" in report.stdout and "pairs of aco-round2 (sampled by aco)" in report.stdout
