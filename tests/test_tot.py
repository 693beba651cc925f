"""Tree-of-Thought (strategies/tot.py) on scripted outputs, and through the CLI on both embedded models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cli_runs import cli, read_records
from scripted import context, plain_chat, sample

from foresight.driver import Driver, Job
from foresight.engine.types import Completion
from foresight.errors import OptionValueError
from foresight.strategies import StrategyContext, make_strategy
from foresight.strategies.stepwise import STEP_PREFIX
from foresight.strategies.tot import TotConfig, TotTrace, parse_choice, tot_program
from foresight.tasks.arith_task import ArithTask
from foresight.tasks.countdown_judge import VOTE_INSTRUCTION

ROOT = "PROMPT " + STEP_PREFIX
MESSAGES = ({"role": "system", "content": "Solve it."}, {"role": "user", "content": "PROMPT"})


def run(config, respond, seed=0):
    """Drive tot_program, answering every request's i-th sample with `respond(request, i)`;
    returns the result and the request batches seen."""
    question = context("PROMPT ", lambda text: text.rsplit(" ", 1)[-1] or None, np.random.default_rng(seed))
    question = dataclasses.replace(question, question="PROMPT", messages=MESSAGES)
    program = tot_program(config, question)
    seen, requests = [], program.send(None)
    try:
        while True:
            seen.append(requests)
            requests = program.send([Completion(tuple(respond(r, i) for i in range(r.n)), 3, 3) for r in requests])
    except StopIteration as stop:
        return stop.value, seen


def is_vote(request) -> bool:
    return "best choice is" in request.prompt


def steps_by_beam(request, i, n=8):
    """Step i of a step request: its beam (from the sample index) and i in the text; scores
    fall with i so that the log-prob tie-break prefers low ids within a beam."""
    return sample(f"b{i // n}c{i % n}", mean_logprob=-0.1 * (1 + i % n))


def test_the_top_m_by_votes_come_from_all_m_times_n_candidates():
    """Votes for ids 12 and 15 (beam 1's samples) win: the script's M·M tally (T1) could only
    pick ids 1..4. Two-digit ids read whole (the script reads the last digit)."""
    config = TotConfig(max_steps=1)
    votes = iter(["Choice 12 looks best. The best choice is 12", "the best choice is 15.",
                  "The best choice is 1"])  # the last: the final vote

    def respond(request, i):
        if is_vote(request):
            return sample(next(votes), tokens=9)
        return sample("done") if request.stop == () else steps_by_beam(request, i)

    result, seen = run(config, respond)
    (step,) = result.trace.steps
    assert len(step.candidates) == 16
    assert [c.votes for c in step.candidates] == [0] * 11 + [1, 0, 0, 1, 0]
    assert [i for i, c in enumerate(step.candidates) if c.selected] == [11, 14]
    assert [(b.parsed, b.voted) for b in step.ballots] == [(12, 12), (15, 15)]
    finals = [r.prompt for batch in seen for r in batch if r.stop == () and not is_vote(r)]
    assert sorted(finals) == [ROOT + "b1c3\n", ROOT + "b1c6\n"]


def test_one_vote_prompt_lists_every_candidate_through_the_chat_template():
    config = TotConfig(beams=2, rollouts=3, max_steps=1)
    result, seen = run(config, lambda r, i: sample(f"s{i}") if r.stop else sample("The best choice is 1"))
    votes = [r for batch in seen for r in batch if is_vote(r)]
    assert len(votes) == 2 and votes[0].n == config.votes and votes[0].temperature == 1.0
    assert votes[0].max_tokens == 4096 and votes[0].stop == ()
    listed = "".join(f"Choice {k + 1}:\n{STEP_PREFIX}\ns{k}\n" for k in range(6))
    assert votes[0].prompt == plain_chat([MESSAGES[0], {"role": "user", "content": (
        "Given an problem and several choices of partial solution, decide which choice is most promising. "
        "Analyze each choice in detail, then conclude in the last line \"The best choice is {s}\", "
        f"where s the integer id of the choice.\nProblem:\nPROMPT\n{listed}")}])


def test_an_unparsable_vote_abstains_and_the_tally_ties_go_to_the_higher_step_log_prob():
    config = TotConfig(max_steps=1)
    result, _ = run(config, lambda r, i: sample("The best choice is 99" if is_vote(r) else "x")
                    if not r.stop else steps_by_beam(r, i))
    step = result.trace.steps[0]
    assert [(b.parsed, b.voted) for b in step.ballots] == [(None, None), (None, None)]  # 99 is no choice
    assert all(c.votes == 0 for c in step.candidates)
    # every beam's c0 has the best score; beam 0's comes first
    assert [c.text for c in step.candidates if c.selected] == ["b0c0", "b1c0"]


def test_random_unparsable_votes_reproduce_the_script():
    config = TotConfig(max_steps=1, votes=50, unparsable_vote="random")
    result, _ = run(config, lambda r, i: sample("no idea") if not r.stop else steps_by_beam(r, i))
    step = result.trace.steps[0]
    assert all(b.parsed is None and 1 <= b.voted <= 16 for b in step.ballots)
    assert sum(c.votes for c in step.candidates) == 50
    assert len({b.voted for b in step.ballots}) > 5  # drawn, not one fixed id
    assert config.label == "tot-random-votes" and TotConfig().label == "tot"


def test_the_final_vote_is_parsed_and_lists_the_solutions_with_their_last_step():
    """T2 and T3 fixed: the final vote names the completed beams (step T included) and its
    choice is the answer."""
    config = TotConfig(max_steps=2, final_votes=3)

    def respond(request, i):
        if is_vote(request):
            final = "completion" in request.prompt
            return sample("The best choice is 2" if final else f"The best choice is {1 + 8 * (i % 2)}")
        if request.stop:
            return steps_by_beam(request, i)
        return sample(f"completion of {request.prompt[len(ROOT):].strip().replace(chr(10), ' ')}", ended=True)

    result, seen = run(config, respond)
    final_vote = [r for r in seen[-1] if is_vote(r)][0]
    assert final_vote.n == 3
    beams = ["b0c0\nb0c0\n", "b1c0\nb0c0\n"]  # step 2's winners: ids 1 (beam 0) and 9 (beam 1)
    solutions = [b + "completion of " + b.strip().replace("\n", " ") for b in beams]
    assert [s.text for s in result.trace.solutions] == solutions
    assert all(f"Choice {k + 1}:\n{STEP_PREFIX}{s}\n" in final_vote.prompt for k, s in enumerate(solutions))
    assert result.trace.chosen == 1 and result.response == solutions[1]
    assert [s.votes for s in result.trace.solutions] == [0, 3]


def test_a_finished_beam_keeps_its_place_and_the_search_stops_when_all_are():
    config = TotConfig(beams=2, rollouts=2, max_steps=4)

    def respond(request, i):
        if is_vote(request):
            return sample("The best choice is 1")
        if request.stop:
            beam_text = request.prompt[len(ROOT):]
            if beam_text.count("\n") == 1:  # the second step of every beam ends the solution
                return sample(f"The answer is {i}", ended=True)
            return sample(f"s{i}")
        raise AssertionError("finished beams need no completion")

    result, seen = run(config, respond)
    assert result.trace.stop_reason == "all_beams_finished" and len(result.trace.steps) == 2
    assert all(c.terminal for c in result.trace.steps[1].candidates)
    assert result.response.startswith("s0\nThe answer is")


def test_one_beam_needs_no_final_vote():
    result, seen = run(TotConfig(beams=1, rollouts=2, max_steps=1),
                       lambda r, i: sample(f"s{i}") if r.stop else sample("The best choice is 2" if is_vote(r) else "end"))
    assert result.trace.final_ballots == [] and result.trace.chosen == 0
    assert not any(is_vote(r) for r in seen[-1])
    assert result.response == "s1\nend"


def test_the_same_seed_gives_the_same_search():
    def respond(request, i):
        rng = np.random.default_rng([request.seed, i])
        if is_vote(request):
            return sample(f"The best choice is {rng.integers(1, 17)}")
        return sample(f"s{rng.integers(100)}", mean_logprob=-rng.random()) if request.stop else sample("end")

    first, second = run(TotConfig(), respond, seed=3)[0], run(TotConfig(), respond, seed=3)[0]
    assert first.trace.to_json() == second.trace.to_json() and first.response == second.response
    assert run(TotConfig(), respond, seed=4)[0].trace.to_json() != first.trace.to_json()
    assert TotTrace.from_json(first.trace.to_json()) == first.trace


@pytest.mark.parametrize("text, expected", [
    ("The best choice is 3", 3), ("the Best Choice is: 12.", 12), ("best choice is 2 ... best choice is 4", 4),
    ("The best choice is 17", None), ("The best choice is 0", None), ("I like 3", None),
])
def test_parse_choice(text, expected):
    assert parse_choice(text, 16) == expected


@pytest.mark.parametrize("option, value", [("beams", 0), ("votes", 0), ("final_votes", 0), ("vote_temperature", 0.0),
                                           ("vote_max_tokens", 0), ("unparsable_vote", "skip")])
def test_bad_settings_are_refused(option, value):
    with pytest.raises(OptionValueError, match=option):
        make_strategy("tot", **{option: value})


@pytest.mark.parametrize("model", ["arith", "countdown"])
def test_runs_through_the_cli_and_show_draws_it(model, tmp_path, capsys):
    out = tmp_path / "runs"
    code, table, err = cli(capsys, "run", "--task", model, "--model", model, "--strategy", "tot", "--limit", "2",
                           "--max-steps", "2", "--vote-max-tokens", "64", "--out", str(out), "--no-progress")
    assert code == 0, err
    assert "tot" in table
    records = read_records(out / "tot")
    assert len(records) == 2
    trace = TotTrace.from_json(records[0]["trace"])
    assert 1 <= len(trace.steps) <= 2 and len(trace.steps[0].candidates) == 16 and len(trace.steps[0].ballots) == 2
    code, shown, err = cli(capsys, "show", str(out / "tot"), "--id", records[0]["id"])
    assert code == 0, err
    assert "step 1" in shown and "votes (2)" in shown and "16. beam 1" in shown and "final vote" in shown


@pytest.mark.parametrize("flags, message", [
    (["--votes", "0"], "--votes must be at least 1, got 0"),
    (["--vote-temperature", "-1"], "--vote-temperature must be a finite number above 0"),
    (["--unparsable-vote", "skip"], "argument --unparsable-vote: invalid choice"),
    (["--strategy", "cot", "--votes", "2"], "--votes does not apply to strategy cot"),
])
def test_bad_flags_are_one_line_errors(flags, message, tmp_path, capsys):
    args = ["run", "--strategy", "tot", "--limit", "1", "--out", str(tmp_path), *flags]
    code, _, err = cli(capsys, *args)
    assert code == 2 and message in err and err.count("\n") == 1


class Recording:
    """The real engine, keeping every request it is asked."""

    def __init__(self, engine):
        self.engine, self.requests = engine, []
        self.model_id, self.num_parameters = engine.model_id, engine.num_parameters

    def generate(self, requests):
        self.requests += requests
        return self.engine.generate(requests)


def test_on_the_real_model_the_vote_goes_through_its_template_and_a_seed_repeats(arith_engine):
    task = ArithTask(size=2)
    question = task.questions()[0]
    config = TotConfig(max_steps=2, vote_max_tokens=32)

    def search(seed):
        engine, out = Recording(arith_engine), {}
        context = StrategyContext.for_messages(arith_engine.render_chat, task.messages(question), task.extract_answer,
                                               seed, question.id, question.text)
        Driver(engine).run([Job("q", tot_program(config, context))], lambda key, result, usage: out.update(result=result))
        return out["result"], engine.requests

    result, requests = search(0)
    votes = [r for r in requests if is_vote(r)]
    assert len(votes) == len(result.trace.steps) + 1
    choices = [STEP_PREFIX + "\n" + c.text for c in result.trace.steps[0].candidates]
    listed = "".join(f"Choice {k}:\n{choice}\n" for k, choice in enumerate(choices, start=1))
    vote = f"{VOTE_INSTRUCTION}\nProblem:\n{question.text}\n{listed}"
    assert votes[0].prompt == arith_engine.render_chat([*task.messages(question)[:-1], {"role": "user", "content": vote}])
    again, _ = search(0)
    assert again.response == result.response and again.trace == result.trace
