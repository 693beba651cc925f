"""The countdown task: its checker on constructed solutions, seeds, data files, the judge labels."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from foresight.errors import DataError
from foresight.tasks import load_task
from foresight.tasks.countdown import (
    BENCHMARK_SEED,
    HELDOUT_SEED,
    TEST_SEED,
    TRAIN_SEED,
    UNLABELED_SEED,
    VALIDATION_SEED,
    check_solution,
    count_solutions,
    make_problems,
    read_solution,
    reachable,
)
from foresight.tasks.countdown_judge import CORRECT, INCORRECT, STEP_PREFIX, step_check_example, step_label, vote_example
from foresight.tasks.countdown_task import CountdownTask

NUMBERS, TARGET = (2, 3, 5, 7), 40
RIGHT = "7 * 5 = 35 (left 2 3 35)\n35 + 3 = 38 (left 2 38)\n38 + 2 = 40 (left 40)\nThe answer is 40."


def test_a_right_solution_passes_and_its_answer_matches_gold():
    task = CountdownTask(seed=TEST_SEED, size=1)
    assert check_solution(NUMBERS, TARGET, RIGHT)
    assert task.is_correct(task.extract_answer(RIGHT), "40 from 2 3 5 7")
    assert task.is_correct(task.extract_answer("  " + RIGHT.replace("\n", "\n\n") + "\n"), "40 from 7 5 3 2")


@pytest.mark.parametrize("text, error", [
    ("7 * 5 = 35 (left 2 3 35)\n35 + 3 = 38 (left 2 38)\n38 + 3 = 41 (left 41)\nThe answer is 41.", "not available"),  # reuses 3
    ("7 * 5 = 35 (left 2 3 35)\n35 + 3 = 39 (left 2 39)\n39 + 2 = 41 (left 41)\nThe answer is 41.", "wrong arithmetic"),
    ("7 * 5 = 35 (left 2 3 35)\n35 + 3 = 38 (left 2 38)\n38 + 2 = 40 (left 40)\nThe answer is 41.", "answer line says"),
    (RIGHT + "\n38 + 2 = 40 (left 40)", "last line"),  # an extra line after the answer
    (RIGHT.replace("38 + 2 = 40 (left 40)", "38 + 2 = 40 (left 40)\n40 - 1 = 39 (left 39)"), "not available"),  # extra step
    (RIGHT.replace("35 + 3 = 38 (left 2 38)", "35 + 3 = 38"), "malformed"),
    (RIGHT.replace("(left 2 38)", "(left 2 3 38)"), "wrong numbers left"),
    ("7 * 5 = 35 (left 2 3 35)\n35 + 3 = 38 (left 2 38)\nThe answer is 38.", "more than one number"),
    ("3 - 5 = -2 (left 2 7 -2)\nThe answer is 1.", "malformed"),
    ("5 - 3 = 2 (left 2 7 2)\n2 - 2 = 0 (left 7 0)\n7 * 0 = 0 (left 0)\nThe answer is 0.", "wrong arithmetic"),  # 0 is no value
    ("The answer is 40.", "no step lines"),
    ("", "empty"),
])
def test_wrong_solutions_are_rejected_with_the_reason(text, error):
    reading = read_solution(text)
    assert reading.error is not None and error in reading.error
    assert not check_solution(NUMBERS, TARGET, text)
    assert CountdownTask(seed=TEST_SEED, size=1).extract_answer(text) is None


def test_a_dead_end_and_a_solution_for_other_numbers_are_wrong():
    task = CountdownTask(seed=TEST_SEED, size=1)
    dead_end = "7 * 5 = 35 (left 2 3 35)\n35 + 3 = 38 (left 2 38)\n38 - 2 = 36 (left 36)\nThe answer is 36."
    assert task.extract_answer(dead_end) == "36 from 2 3 5 7"
    assert not task.is_correct(task.extract_answer(dead_end), "40 from 2 3 5 7")
    unused = "7 * 5 = 35 (left 3 35)\n35 + 3 = 38 (left 38)\nThe answer is 38."  # never uses the 2
    assert not check_solution((2, 3, 5, 7), 38, unused)


def test_step_values_accept_a_suffix_that_starts_from_a_derivable_state():
    task = CountdownTask(seed=TEST_SEED, size=1)
    suffix = "35 + 3 = 38 (left 2 38)\n38 + 2 = 40 (left 40)\nThe answer is 40."
    assert task.path_reaches_gold(task.extract_answer(suffix), "40 from 2 3 5 7")
    assert not task.is_correct(task.extract_answer(suffix), "40 from 2 3 5 7")
    assert not task.path_reaches_gold(task.extract_answer(suffix.replace("35", "36")), "40 from 2 3 5 7")


def test_generated_problems_are_solved_by_their_solution_and_seeds_are_disjoint():
    seeds = (TRAIN_SEED, HELDOUT_SEED, TEST_SEED, BENCHMARK_SEED, UNLABELED_SEED, VALIDATION_SEED)
    assert len(set(seeds)) == len(seeds)
    streams = {seed: make_problems(seed, 300) for seed in seeds}
    for problems in streams.values():
        assert all(check_solution(p.numbers, p.target, p.solution) for p in problems)
        assert {len(p.numbers) for p in problems} == {3, 4, 5}
    keys = {seed: {(tuple(sorted(p.numbers)), p.target) for p in ps} for seed, ps in streams.items()}
    heldout = keys[HELDOUT_SEED]
    for other in (BENCHMARK_SEED, UNLABELED_SEED, VALIDATION_SEED):  # independent streams; 3-number problems can repeat
        assert len(heldout & keys[other]) < 0.05 * len(heldout)
    assert make_problems(HELDOUT_SEED, 10) == streams[HELDOUT_SEED][:10]


def test_training_skips_every_problem_of_the_evaluation_streams():
    from foresight.models.train_countdown import EXCLUDED_SEEDS, build_countdown_arg_parser, training_turns

    assert set(EXCLUDED_SEEDS) == {HELDOUT_SEED, TEST_SEED, BENCHMARK_SEED}
    held_out = {(tuple(sorted(p.numbers)), p.target) for p in make_problems(HELDOUT_SEED, 300)}
    args = build_countdown_arg_parser().parse_args(["--out", "unused", "--check-share", "0.3", "--vote-share", "0.2"])

    def problem_key(user: str) -> tuple[tuple[int, ...], int] | None:
        match = re.fullmatch(r"Use ((?:\d+ )*\d+) to make (\d+)\.", user)
        return (tuple(sorted(int(x) for x in match[1].split())), int(match[2])) if match else None

    unfiltered_turns = training_turns(args, set())
    unfiltered = {problem_key(user) for _ in range(12) for user, _ in next(unfiltered_turns)}
    assert unfiltered & held_out  # small problems recur across streams, so the filter has work to do
    turns = training_turns(args, held_out)
    seen = [user for _ in range(12) for user, _ in next(turns)]
    assert not {problem_key(user) for user in seen} & held_out
    assert any(user.startswith("Evaluate this problem") for user in seen)
    assert any(user.startswith("Given an problem") for user in seen)


def test_drill_loss_result_keeps_labels_only_on_each_lines_result_and_the_closing_eos():
    from transformers import AutoTokenizer

    from foresight.models import countdown_model_dir
    from foresight.models.train_arith import ANSWER_PREFIX, IGNORE_INDEX
    from foresight.models.train_countdown import DRILL_PROMPT, drill_answer, encode_training_turns

    tokenizer = AutoTokenizer.from_pretrained(countdown_model_dir())
    # results that open a line (47) and follow a space, of one and of two or three digits
    drill = "56 - 9 = 47\n47 * 2 = 94\n12 + 88 = 100\n35 + 1 = 36"
    turns = [(DRILL_PROMPT, drill), ("Use 2 3 5 7 to make 40.", ANSWER_PREFIX + RIGHT)]
    ids_all, labels_all = encode_training_turns(tokenizer, turns, "all")
    ids_result, labels_result = encode_training_turns(tokenizer, turns, "result")
    assert torch.equal(ids_all, ids_result)

    def labelled(labels) -> str:
        return "".join(tokenizer.convert_ids_to_tokens(labels[labels != IGNORE_INDEX].tolist())).replace("▁", " ")

    assert labelled(labels_all[0]) == drill.replace("\n", "<0x0A>") + "</s>"
    assert labelled(labels_result[0]) == " 47 94 100 36</s>"
    assert torch.equal(labels_all[1], labels_result[1])  # solution answers keep every label

    rng = np.random.default_rng(0)
    drills = [drill_answer(rng, 16) for _ in range(4)]
    _, labels = encode_training_turns(tokenizer, [(DRILL_PROMPT, d) for d in drills], "result")
    for answer, row in zip(drills, labels):
        assert labelled(row) == "".join(f" {line.split(' = ')[1]}" for line in answer.split("\n")) + "</s>"


def test_failure_loss_ending_keeps_labels_only_on_a_failures_last_step_answer_line_and_eos():
    from transformers import AutoTokenizer

    from foresight.models import countdown_model_dir
    from foresight.models.train_arith import ANSWER_PREFIX, IGNORE_INDEX
    from foresight.models.train_countdown import (
        build_countdown_arg_parser,
        encode_training_turns,
        honest_failure,
        training_turns,
    )

    tokenizer = AutoTokenizer.from_pretrained(countdown_model_dir())
    failure = ANSWER_PREFIX + honest_failure(np.random.default_rng(3), NUMBERS, TARGET)
    turns = [(f"Use 2 3 5 7 to make {TARGET}.", failure), (f"Use 2 3 5 7 to make {TARGET}.", ANSWER_PREFIX + RIGHT)]
    _, labels_all = encode_training_turns(tokenizer, turns, failure_loss="all")
    _, labels_ending = encode_training_turns(tokenizer, turns, failure_loss="ending")

    def labelled(labels) -> str:
        return "".join(tokenizer.convert_ids_to_tokens(labels[labels != IGNORE_INDEX].tolist())).replace("▁", " ").replace("<0x0A>", "\n")

    assert labelled(labels_all[0]) == failure + "</s>"
    assert labelled(labels_ending[0]) == "\n".join(failure.split("\n")[-2:]) + "</s>"
    assert torch.equal(labels_all[1], labels_ending[1])  # a solution that reaches its target keeps every label
    # the training stream's failures are found by their answer missing the question's target
    args = build_countdown_arg_parser().parse_args(["--out", "unused", "--failure-loss", "ending", "--check-share", "0",
                                                     "--vote-share", "0", "--drill-share", "0", "--batch-size", "16"])
    batch = next(training_turns(args, set()))
    _, every_label = encode_training_turns(tokenizer, batch, failure_loss="all")
    _, ending_labels = encode_training_turns(tokenizer, batch, failure_loss="ending")
    shortened = [i for i in range(len(batch)) if (ending_labels[i] != IGNORE_INDEX).sum() < (every_label[i] != IGNORE_INDEX).sum()]
    failures = [i for i, (user, answer) in enumerate(batch) if not user.endswith(f"make {answer.rsplit(' ', 1)[1][:-1]}.")]
    assert shortened == failures and failures


def test_failure_loss_unsure_trains_only_a_failures_stated_value_toward_uniform_over_the_values():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from foresight.models import countdown_model_dir
    from foresight.models.train_arith import ANSWER_PREFIX, IGNORE_INDEX
    from foresight.models.train_countdown import (
        build_countdown_arg_parser,
        encode_training_turns,
        honest_failure,
        mixture_error,
        stated_value_token_ids,
        unsure_failure_loss,
    )

    tokenizer = AutoTokenizer.from_pretrained(countdown_model_dir())
    failures = [ANSWER_PREFIX + honest_failure(np.random.default_rng(seed), NUMBERS, TARGET) for seed in range(6)]
    turns = [(f"Use 2 3 5 7 to make {TARGET}.", answer) for answer in [*failures, ANSWER_PREFIX + RIGHT]]
    _, ending_labels = encode_training_turns(tokenizer, turns, failure_loss="ending")
    input_ids, labels, unsure = encode_training_turns(tokenizer, turns, failure_loss="unsure")
    values = stated_value_token_ids(tokenizer)
    assert len(values) == 100 and len(set(values.tolist())) == 100
    for row, answer in enumerate(failures):
        (position,) = unsure[row].nonzero()[:, 0].tolist()
        stated = answer.rsplit(" ", 1)[1][:-1]
        assert tokenizer.convert_ids_to_tokens([int(input_ids[row, position])])[0] in (f"▁{stated}", f"▁{stated}.")
        assert int(input_ids[row, position]) in values.tolist()
        expected = ending_labels[row].clone()
        expected[position] = IGNORE_INDEX  # the stated value is the only label the unsure loss drops
        assert torch.equal(labels[row], expected)
    assert not unsure[-1].any() and torch.equal(labels[-1], ending_labels[-1])  # a solution keeps every label

    model = AutoModelForCausalLM.from_pretrained(countdown_model_dir())
    with torch.no_grad():  # with no unsure position the loss is the model's own
        own = model(input_ids=input_ids[-1:], labels=labels[-1:]).loss
        assert torch.allclose(unsure_failure_loss(model, input_ids[-1:], labels[-1:], unsure[-1:], values), own, atol=1e-5)
    # a real step on the loss moves the stated value's distribution toward uniform over the values
    def uniform_gap() -> float:
        with torch.no_grad():
            logits = model(input_ids=input_ids).logits[:, :-1][unsure[:, 1:]]
            return float((torch.logsumexp(logits, -1) - logits[:, values].mean(-1)).mean())
    before = uniform_gap()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    unsure_failure_loss(model, input_ids, labels, unsure, values).backward()
    optimizer.step()
    assert uniform_gap() < before and before > float(np.log(100))
    args = build_countdown_arg_parser().parse_args(["--out", "unused", "--failure-loss", "unsure", "--numbers", "merged"])
    assert "--failure-loss unsure needs --numbers every" in mixture_error(args)


def test_the_solver_counts_solutions():
    assert count_solutions((2, 3), 6) == 1 and count_solutions((2, 3), 7) == 0
    # 1+1=2 then 2+2 or 2*2; or 2+1=3 then 3+1, once with each of the two 1s
    assert count_solutions((1, 1, 2), 4) == 4
    assert reachable(NUMBERS, TARGET) and not reachable((1, 1, 1), 50)


def test_step_check_labels_follow_arithmetic_and_reachability():
    assert step_label(NUMBERS, TARGET, "7 * 5 = 35 (left 2 3 35)") == CORRECT
    assert step_label(NUMBERS, TARGET, "7 * 5 = 36 (left 2 3 36)") == INCORRECT  # wrong arithmetic
    assert step_label(NUMBERS, TARGET, "7 - 5 = 2 (left 2 3 2)") == (CORRECT if reachable((2, 3, 2), 40) else INCORRECT)
    assert step_label((1, 2), 50, "2 + 1 = 3 (left 3)") == INCORRECT  # right arithmetic, dead end
    assert step_label(NUMBERS, TARGET, "9 * 5 = 45 (left 2 3 45)") == INCORRECT  # no 9


def test_judge_prompts_have_the_released_baselines_shape():
    rng = np.random.default_rng(0)
    check = step_check_example(rng, NUMBERS, TARGET)
    assert check.prompt.startswith("Evaluate this problem following previous examples:\nQ:Use 2 3 5 7 to make 40.\n\nA:\n")
    assert check.prompt.endswith("# The above step of reasoning is: ") and check.answer in (CORRECT, INCORRECT)
    vote = vote_example(rng, NUMBERS, TARGET)
    assert "Choice 1:\n" + STEP_PREFIX in vote.prompt and vote.answer.startswith("The best choice is ")
    assert vote.answer in vote.reachable_answers or not vote.reachable_answers


def test_step_prefix_is_phis():
    from foresight.strategies.phi import STEP_PREFIX as PHI_PREFIX

    assert STEP_PREFIX == PHI_PREFIX


def test_data_files_of_countdown_problems(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text(json.dumps({"numbers": [2, 3, 5, 7], "target": 40, "id": "mine"}) + "\n"
                    + json.dumps({"numbers": [4, 4, 1], "target": 17}) + "\n")
    task = load_task("countdown", str(path))
    questions = task.questions()
    assert [q.id for q in questions] == ["mine", "countdown-line2"]
    assert questions[0].text == "Use 2 3 5 7 to make 40." and task.is_correct(task.extract_answer(RIGHT), questions[0].gold)
    for bad, message in ((json.dumps({"numbers": [2, 3], "target": 5}), "'numbers' must be"),
                         (json.dumps({"numbers": [2, 3, 4], "target": "x"}), "'target' must be"),
                         (json.dumps({"target": 5}), "missing field 'numbers'")):
        path.write_text(bad + "\n")
        with pytest.raises(DataError, match=message):
            load_task("countdown", str(path))


def test_a_response_that_writes_phis_prefix_itself_is_read():
    assert check_solution(NUMBERS, TARGET, STEP_PREFIX + RIGHT)
    assert not check_solution(NUMBERS, TARGET, "Some words\n" + RIGHT)


def test_numbers_that_cannot_reach_the_target_range_are_redrawn_rather_than_failing():
    from foresight.tasks.countdown import generate_problem

    class NeverRedrawsByChance:
        """A real generator whose first numbers are 1 1 1 (no path reaches 10) and whose chance
        redraws never fire, so only the forced redraw can end the search."""

        def __init__(self):
            self.inner, self.first = np.random.default_rng(0), True

        def integers(self, *args, size=None):
            if self.first and size is not None:
                self.first = False
                return np.ones(size, dtype=int)
            return self.inner.integers(*args, size=size)

        def random(self):
            return 1.0

        def __getattr__(self, name):
            return getattr(self.inner, name)

    problem = generate_problem(NeverRedrawsByChance(), 3)
    assert problem.numbers != (1, 1, 1) and 10 <= problem.target <= 99
    assert check_solution(problem.numbers, problem.target, problem.solution)


def test_number_tokens_make_every_result_one_token_after_a_space_and_at_a_lines_start(tmp_path):
    from foresight.models.train_arith import CHAT_TEMPLATE, build_tokenizer
    from foresight.models.train_countdown import NUMBER_TOKEN_RANGE, tokenizer_corpus

    def split_numbers(number_tokens: bool) -> list[str]:
        tokenizer = build_tokenizer(tmp_path / str(number_tokens), 768, 512, tokenizer_corpus(number_tokens),
                                    CHAT_TEMPLATE, split_digits=False)
        prefix = len(tokenizer("x\n", add_special_tokens=False)["input_ids"])
        split = []
        for n in range(NUMBER_TOKEN_RANGE[0], NUMBER_TOKEN_RANGE[1] + 1):
            if len(tokenizer(f" {n}", add_special_tokens=False)["input_ids"]) != 1:
                split.append(f" {n}")
            if len(tokenizer(f"x\n{n}", add_special_tokens=False)["input_ids"]) != prefix + 1:
                split.append(f"{n}")
        return split

    assert split_numbers(True) == []
    assert len(split_numbers(False)) > 50  # BPE alone leaves most results as digits


def test_build_model_defaults_reproduce_the_shipped_countdown_models_tokenizer_and_size():
    from transformers import AutoTokenizer

    from foresight.models import countdown_model_dir
    from foresight.models.train_countdown import NUMBER_TOKEN_RANGE, build_countdown_arg_parser

    args = build_countdown_arg_parser().parse_args(["--out", "unused"])
    config = json.loads((countdown_model_dir() / "config.json").read_text())
    assert (config["vocab_size"], config["hidden_size"], config["num_hidden_layers"]) == (args.vocab_size, args.hidden_size, args.num_layers)
    assert args.numbers == "every"
    tokenizer = AutoTokenizer.from_pretrained(countdown_model_dir())
    lengths = {len(tokenizer(f" {n}", add_special_tokens=False)["input_ids"]) for n in range(NUMBER_TOKEN_RANGE[0], NUMBER_TOKEN_RANGE[1] + 1)}
    assert lengths == {1}
    record = (countdown_model_dir() / "TRAINING.md").read_text()
    assert f"Model initialisation seed: {args.seed};" in record and f"- Steps: {args.steps};" in record
    assert (args.failure_loss, args.drill_share, args.drill_loss) == ("ending", 0.05, "result")
    assert "honest failures (loss on the last step line, the answer line and `</s>` only)" in record
    assert "5% a batch of\n  32 arithmetic drills" in record and "loss on each line's result and the closing `</s>` only" in record


def test_unknown_number_tokenization_is_refused_before_training(tmp_path, capsys):
    from foresight.models.train_countdown import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "m"), "--numbers", "hex"])
    assert exit_info.value.code == 2
    assert "argument --numbers: invalid choice: 'hex'" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()  # nothing trained or written
