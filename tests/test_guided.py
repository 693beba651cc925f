"""Guided decoding (self-evaluation guided stochastic beam search) on scripted outputs, where every
p(correct), path score and draw weight can be worked out by hand, and on the real model."""

import math

import pytest
from scripted import drive, plain_chat, sample
from strategy_checks import one_line_error, run_and_show, same_seed_same_search

from foresight.engine.types import Sample
from foresight.errors import OptionValueError
from foresight.strategies.guided import JUDGE_INSTRUCTION, VERDICT_PREFIX, GuidedConfig, guided_program, read_verdict
from foresight.strategies.phi import STEP_PREFIX
from foresight.strategies.selection import softmax
from foresight.tasks.countdown_judge import step_check_prompt

ROOT = "PROMPT " + STEP_PREFIX


def verdict(letter, p):
    """The one forced token the judge returns, with probability p."""
    return Sample(text=letter, num_tokens=1, logprob=math.log(p), finish_reason="length")


def judged_step(prompt):
    """The step a judge prompt asks about: the line before the open verdict block."""
    return prompt.rsplit("\n# Is the above step of reasoning: \n", 1)[0].rsplit("\n", 1)[-1]


def default_judge(prompt):
    """Steps with 'good' in them are judged (A) at 0.9, others (B) at 0.9."""
    return verdict("A", 0.9) if "good" in judged_step(prompt) else verdict("B", 0.9)


def run(config, step, judge=default_judge, completion=lambda prompt: sample("done 5", -0.2, ended=True)):
    """The program's result and requests: steps answered by `step(beam_text, i)`, verdict
    requests by `judge(prompt)`, final completions by `completion(prompt)`."""
    return drive(guided_program, config, lambda _, beam, i: step(beam, i),
                 lambda prompt: judge(prompt) if prompt.endswith(VERDICT_PREFIX) else completion(prompt))


def test_p_correct_is_read_from_the_verdict_tokens_log_prob():
    assert read_verdict(verdict("A", 0.8)).p_correct == pytest.approx(0.8)
    assert read_verdict(verdict(" A", 0.8)).verdict == "A"
    b = read_verdict(verdict("B", 0.7))
    assert b.verdict == "B" and b.p_correct == pytest.approx(0.3)
    other = read_verdict(verdict("7", 0.6))  # neither letter: no information
    assert other.verdict is None and other.p_correct == 0.5
    # a capital A later in a free text is no verdict (the script's 'A' anywhere, G3)
    assert read_verdict(verdict("xA", 0.9)).verdict is None
    assert read_verdict(verdict("All", 0.9)).verdict is None and read_verdict(verdict("B)", 0.9)).verdict == "B"


def test_the_judge_asks_through_the_chat_template_with_the_beams_steps_and_verdicts():
    config = GuidedConfig(beams=1, rollouts=1, max_steps=3)
    steps = iter(["good one", "bad two", "good three"])
    _, seen = run(config, lambda beam, i: sample(next(steps)))
    judges = [r for batch in seen for r in batch if r.prompt.endswith(VERDICT_PREFIX)]
    assert len(judges) == 4 and all(r.n == 1 and r.max_tokens == 1 and r.temperature == 0.0 for r in judges)
    # step 3: the earlier steps with the verdicts their judgements gave, then the candidate
    user = step_check_prompt("PROMPT ", [("good one", "(A) Correct"), ("bad two", "(B) Incorrect")], "good three")
    expected = plain_chat([{"role": "system", "content": JUDGE_INSTRUCTION}, {"role": "user", "content": user}])
    assert judges[2].prompt == expected + VERDICT_PREFIX
    assert user.endswith("good three\n# Is the above step of reasoning: \n# (A) Correct \n# (B) Incorrect \n"
                         "# The above step of reasoning is: ")


def test_path_scores_multiply_over_steps_and_beams_are_drawn_by_exp_of_score_over_annealed_tau():
    config = GuidedConfig(beams=2, rollouts=2, max_steps=2)
    step = lambda beam, i: sample(("good" if i % 2 else "bad") + str(i), mean_logprob=-0.5 - 0.1 * i)
    result, _ = run(config, step)
    first, second = result.trace.steps
    assert first.tau == 0.5 and second.tau == 0.25 and result.trace.tau == 0.125
    assert len(first.candidates) == 4  # both beams start empty: one request of n = 4

    def factor(c):
        return c.judgement.p_correct ** 0.5 * math.exp(0.5 * c.score)

    for c in first.candidates:
        assert c.judgement.p_correct == pytest.approx(0.9 if "good" in c.text else 0.1)
        assert c.E == pytest.approx(factor(c))
    assert [c.weight for c in first.candidates] == pytest.approx(list(softmax([c.E for c in first.candidates], 0.5)))
    assert sum(c.selected for c in first.candidates) == 2
    parents = sorted(c.E for c in first.candidates if c.selected)
    # E of the parent path times this step's factor: per beam, one of the drawn candidates' E
    ratios = {beam: {round(c.E / factor(c), 9) for c in second.candidates if c.beam == beam} for beam in (0, 1)}
    assert all(len(r) == 1 for r in ratios.values())
    assert sorted(r.pop() for r in ratios.values()) == pytest.approx(parents)
    assert [c.weight for c in second.candidates] == pytest.approx(list(softmax([c.E for c in second.candidates], 0.25)))


def test_the_final_completion_is_judged_and_scored_like_a_step():
    config = GuidedConfig(beams=2, rollouts=1, max_steps=1, selection_temperature=1.0)
    step = lambda beam, i: sample("good")

    def completion(prompt):  # every beam ends "good\n"; the completions differ by request order
        completion.calls += 1
        return sample("right 4" if completion.calls == 1 else "wrong 9", -0.1 if completion.calls == 1 else -3.0, ended=True)
    completion.calls = 0

    def judge(prompt):
        return verdict("A", 0.95) if "right" in prompt else verdict("B", 0.95) if "wrong" in prompt else verdict("A", 0.5)

    result, seen = run(config, step, judge=judge, completion=completion)
    final = result.trace.final
    e_step = 0.5 ** 0.5 * math.exp(0.5 * -0.5)
    assert final[0].E == pytest.approx(e_step * 0.95 ** 0.5 * math.exp(0.5 * -0.1))
    assert final[1].E == pytest.approx(e_step * 0.05 ** 0.5 * math.exp(0.5 * -3.0))
    assert [f.weight for f in final] == pytest.approx(list(softmax([f.E for f in final], 0.5)))
    assert final[0].judgement.verdict == "A" and final[1].judgement.verdict == "B"
    assert final[0].completion == "right 4" and final[0].text == "good\nright 4"


def test_step_value_accuracy_reads_the_final_choice():
    from foresight.eval.step_values import step_value_counts

    config = GuidedConfig(beams=2, rollouts=1, max_steps=1)
    texts = iter(["right 4", "wrong 9"])
    result, _ = run(config, lambda beam, i: sample("good"), completion=lambda prompt: sample(next(texts), -0.1, ended=True),
                    judge=lambda prompt: verdict("A", 0.9) if "right" in prompt or "wrong" not in prompt else verdict("B", 0.9))
    extract = lambda t: t.rsplit(" ", 1)[-1]
    found = step_value_counts(result.trace, extract, lambda p, g: p == g, "4")
    assert found == {"discriminative_steps": 1, "accurate_steps": 1}  # the judged-right completion weighs more
    assert step_value_counts(result.trace, extract, lambda p, g: p == g, "7") == {"discriminative_steps": 0, "accurate_steps": 0}


def test_finished_beams_stop_stepping_and_keep_their_score():
    config = GuidedConfig(beams=2, rollouts=2, max_steps=4)
    result, seen = run(config, lambda beam, i: sample(f"good {i}", ended=True))
    assert len(result.trace.steps) == 1 and result.trace.stop_reason == "all_beams_finished"
    assert all(f.judgement is None and f.completion == "" for f in result.trace.final)
    assert result.response in {"good 0", "good 1", "good 2", "good 3"} and result.answer == result.response[-1]
    assert not any(r.prompt.startswith(ROOT) and r.stop == () for batch in seen for r in batch)  # no completion


@pytest.mark.parametrize("field, value", [("beams", 0), ("rollouts", 0), ("max_steps", 0), ("likelihood_weight", 1.5),
                                          ("selection_temperature", 0.0), ("temperature_decay", 0.0),
                                          ("temperature_decay", 1.5)])
def test_bad_settings_are_refused(field, value):
    with pytest.raises(OptionValueError, match=field):
        GuidedConfig(**{field: value})


def test_same_seed_same_search_on_the_real_model(arith_engine, arith_prompt):
    first = same_seed_same_search(guided_program, GuidedConfig(beams=2, rollouts=2, max_steps=3), arith_engine, arith_prompt)
    for step in first["result"].trace.steps:
        for c in step.candidates:
            j = c.judgement
            assert 0.0 <= j.p_correct <= 1.0 and j.token_logprob <= 0.0
            if j.verdict == "A":
                assert j.p_correct == pytest.approx(math.exp(j.token_logprob))


@pytest.mark.parametrize("model", ["arith", "countdown"])
def test_runs_through_the_cli_and_show_draws_the_verdicts(model, tmp_path, capsys):
    _, shown = run_and_show(capsys, tmp_path, "guided", model, "--max-steps", "2")
    assert "step 1" in shown and "p(correct)=" in shown and "final completions" in shown and "chosen" in shown


@pytest.mark.parametrize("args, message", [
    (["--likelihood-weight", "2"], "--likelihood-weight must be in [0, 1], got 2.0"),
    (["--temperature-decay", "0"], "--temperature-decay must be in (0, 1], got 0.0"),
    (["--selection-temperature", "0"], "--selection-temperature must be a finite number above 0, got 0.0"),
    (["--iterations", "3"], "--iterations does not apply to strategy guided"),
])
def test_bad_settings_are_one_line_errors(args, message, tmp_path, capsys):
    assert message in one_line_error(capsys, tmp_path, "guided", *args)
