"""MCTS (RAP-style) on scripted steps, where every UCT choice and backed-up return can be worked
out by hand, and on the real model."""

import math

import pytest
from scripted import drive, sample
from strategy_checks import one_line_error, run_and_show, same_seed_same_search

from foresight.errors import OptionValueError
from foresight.strategies.mcts import MCTSConfig, mcts_program
from foresight.strategies.phi import STEP_PREFIX

ROOT = "PROMPT " + STEP_PREFIX

# path so far -> the children an expansion samples there: (text, mean log-prob, ended the solution)
TREE = {
    "": [("a", -0.1, False), ("b", -0.5, False)],
    "a\n": [("a1", -1.0, True), ("a2", -2.0, True)],
    "b\n": [("b1", -0.2, True), ("b2", -0.3, True)],
}


def run(config, tree=TREE, completion="the end 7"):
    """The program's result and requests: steps answered from `tree`, the final completion
    with `completion`."""
    return drive(mcts_program, config, lambda step, beam, i: sample(*tree[beam][i]),
                 lambda prompt: sample(completion, -0.5, ended=True))


def ids(trace, *texts):
    """Node ids of the path through the nodes with these step texts."""
    return [0] + [next(i for i, n in enumerate(trace.nodes) if n.text == t) for t in texts]


def test_uct_picks_the_child_the_formula_picks_and_backs_up_suffix_sums():
    result, _ = run(MCTSConfig(iterations=3, max_depth=2, rollouts=2))
    trace = result.trace
    paths = [it.path for it in trace.iterations]
    # 1: greedy rollout from the root by fast reward: a (-0.1), then a1 (-1.0).
    # 2: N(root) = 1, ln 1 = 0: Q(a) = -1.1 against b's fast reward -0.5: b, then b1 greedily.
    # 3: N(root) = 2: a scores -1.1 + sqrt(ln 2 / 1), b scores -0.7 + sqrt(ln 2 / 1): b; under b,
    #    N(b) = 1: Q(b1) = -0.2 against b2's fast reward -0.3: b1.
    assert paths == [ids(trace, "a", "a1"), ids(trace, "b", "b1"), ids(trace, "b", "b1")]
    assert [it.value for it in trace.iterations] == pytest.approx([-1.1, -0.7, -0.7])
    nodes = {n.text: n for n in trace.nodes}
    assert nodes[""].visits == 3 and nodes[""].Q == pytest.approx((-1.1 - 0.7 - 0.7) / 3)
    assert nodes["b"].visits == 2 and nodes["b"].Q == pytest.approx(-0.7)
    assert nodes["b1"].visits == 2 and nodes["b1"].Q == pytest.approx(-0.2)
    assert nodes["a"].visits == 1 and nodes["a"].Q == pytest.approx(-1.1)
    assert nodes["b2"].visits == 0 and nodes["b2"].Q is None and nodes["a2"].visits == 0
    # the best terminal path, steps joined by newlines, no "root" line, no completion
    assert result.response == "b\nb1" and not trace.completed and trace.answer_path == ids(trace, "b", "b1")


def test_the_scripts_zero_q_for_unvisited_children_is_a_switch():
    result, _ = run(MCTSConfig(iterations=3, max_depth=2, rollouts=2, uct_with_fast_reward=False))
    trace = result.trace
    # 3: under b, N(b) = 1: Q(b1) = -0.2 against an unvisited b2 valued 0: b2
    assert [it.path for it in trace.iterations][2] == ids(trace, "b", "b2")
    assert math.isclose(trace.iterations[2].value, -0.8)


@pytest.mark.parametrize("fast_reward, gold, counts", [
    (True, "b1", (1, 1)),  # at the root a leads to a1, b to b1, and Q(b) > Q(a); b has one visited child
    (True, "a1", (1, 0)),
    (False, "b2", (1, 0)),  # under b, b1 (Q -0.2) and b2 (Q -0.3) were both visited: Q points at b1
])
def test_step_value_accuracy_reads_the_children_uct_valued(fast_reward, gold, counts):
    from foresight.eval.step_values import step_value_counts

    result, _ = run(MCTSConfig(iterations=3, max_depth=2, rollouts=2, uct_with_fast_reward=fast_reward))
    found = step_value_counts(result.trace, lambda t: t.rsplit("\n", 1)[-1] or None, lambda p, g: p == g, gold)
    assert (found["discriminative_steps"], found["accurate_steps"]) == counts


@pytest.mark.parametrize("w, fourth", [(0.0, "b"), (1.0, "b"), (3.0, "a")])
def test_exploration_weight_scales_the_bonus(w, fourth):
    # iteration 4, N(root) = 3: a scores -1.1 + w·sqrt(ln 3 / 1), b scores -0.7 + w·sqrt(ln 3 / 2)
    result, _ = run(MCTSConfig(iterations=4, max_depth=2, rollouts=2, exploration_weight=w))
    trace = result.trace
    assert [trace.nodes[it.path[1]].text for it in trace.iterations] == ["a", "b", "b", fourth]


def test_without_a_terminal_path_the_best_path_is_completed():
    tree = {path: [(t, lp, False) for t, lp, _ in children] for path, children in TREE.items()}
    result, seen = run(MCTSConfig(iterations=3, max_depth=2, rollouts=2), tree=tree)
    trace = result.trace
    assert trace.completed and trace.completion == "the end 7"
    assert trace.answer_path == ids(trace, "b", "b1")  # return -0.7, the best of the iterations
    final = seen[-1]
    assert len(final) == 1 and final[0].prompt == ROOT + "b\nb1\n" and final[0].stop == ()
    assert result.response == "b\nb1\nthe end 7" and result.answer == "7"


def test_nodes_at_the_depth_limit_are_never_expanded():
    _, seen = run(MCTSConfig(iterations=5, max_depth=2, rollouts=2))
    expanded = [r.prompt[len(ROOT):] for batch in seen for r in batch]
    assert sorted(expanded) == ["", "a\n", "b\n"]


@pytest.mark.parametrize("field, value", [("iterations", 0), ("max_depth", 0), ("rollouts", 0),
                                          ("exploration_weight", -1.0), ("step_temperature", 0.0)])
def test_bad_settings_are_refused(field, value):
    with pytest.raises(OptionValueError, match=field):
        MCTSConfig(**{field: value})


def test_same_seed_same_search_on_the_real_model(arith_engine, arith_prompt):
    first = same_seed_same_search(mcts_program, MCTSConfig(iterations=4, max_depth=3, rollouts=4), arith_engine, arith_prompt)
    trace = first["result"].trace
    assert len(trace.iterations) == 4 and all(len(it.path) <= 4 for it in trace.iterations)
    assert first["result"].response


@pytest.mark.parametrize("model", ["arith", "countdown"])
def test_runs_through_the_cli_and_show_draws_the_tree(model, tmp_path, capsys):
    _, shown = run_and_show(capsys, tmp_path, "mcts", model, "--iterations", "3")
    assert "search tree (root)" in shown and "visits" in shown and "iterations" in shown and "answer" in shown


@pytest.mark.parametrize("args, message", [
    (["--iterations", "0"], "--iterations must be at least 1, got 0"),
    (["--exploration-weight", "-1"], "--exploration-weight must be a finite number of at least 0, got -1.0"),
    (["--max-depth", "0"], "--max-depth must be at least 1, got 0"),
])
def test_bad_settings_are_one_line_errors(args, message, tmp_path, capsys):
    assert message in one_line_error(capsys, tmp_path, "mcts", *args)
