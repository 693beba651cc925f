"""Monte-Carlo tree search over reasoning steps, RAP-style: the φ paper's MCTS baseline
(`baselines/Baseline-RAP.py` of the φ-Decoding release, after Hao et al. 2023's RAP).

A node is one step (one line); its reward is the step's mean log-prob, which is also its fast
reward. Each iteration selects a leaf by UCT, Q(c) + w·sqrt(ln N(parent) / max(1, N(c))), with
Q = the mean of the node's returns, expands it (`rollouts` sampled child steps), simulates by
stepping greedily to the child of highest fast reward until a step ends the solution or the
depth limit, and backs up: every node on the path appends the sum of rewards from itself down
to the leaf. The answer is the terminal path of the highest summed reward over the iterations.

Defaults are the released script's (notes §3): 10 iterations, depth 5, w = 1, 8 children per
expansion, step sampling at T = 0.6. The script's bugs, fixed here:

* unvisited children: the script values them Q = 0, and since rewards are <= 0 an unvisited
  sibling always beats a visited one (the search is forced breadth-first over the root's
  children). Here an unvisited child is valued by its fast reward, as RAP/llm-reasoners does
  with `uct_with_fast_reward`; `uct_with_fast_reward=False` reproduces the script's Q = 0.
* M1: the script's state starts with the literal step `root`, a line in every prompt. Here the
  path continues the project's step prompt (the rendered prompt + the step prefix) directly.
* M2: the script joins the answer's steps with no separator; here they are joined by newlines.
* M3: without a terminal path the script answers the empty string. Here the best-valued path of
  any iteration is completed by one final completion (T = 1.0, as the step searches complete).
* nodes at the depth limit are not expanded (the script samples 8 children there, never used).

A step is terminal when it ended the solution (the model's end of sequence), as in phi.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Generator

from foresight.driver import Program
from foresight.engine.types import Completion, GenerationRequest
from foresight.options import option
from foresight.ranges import AT_LEAST_1, NON_NEGATIVE
from foresight.strategies.base import StrategyContext, StrategyResult, Trace
from foresight.strategies.stepwise import BaselineStepSettings, Beam, complete_beams

Requests = Generator[list[GenerationRequest], list[Completion], None]


@dataclass(frozen=True)
class MCTSConfig(BaselineStepSettings):
    """MCTS settings; defaults are the released script's (notes §3)."""

    name: str = "mcts"
    iterations: int = option(10, "select-expand-simulate-backup iterations")
    max_depth: int = option(5, "depth limit of a path, in steps")
    rollouts: int = option(8, "child steps sampled per expansion")
    exploration_weight: float = option(1.0, "w in the UCT exploration term")
    uct_with_fast_reward: bool = option(
        True, "value unvisited children by their fast reward, as RAP does (off: Q = 0, as the released script)")

    def __post_init__(self) -> None:
        super().__post_init__()
        AT_LEAST_1.check(self, "iterations", "max_depth", "rollouts")
        NON_NEGATIVE.check(self, "exploration_weight")

    @property
    def label(self) -> str:
        return "mcts" if self.uct_with_fast_reward else "mcts-unvisited-q0"


@dataclass
class TreeNodeTrace(Trace):
    """One node of the search tree; the root is node 0 (parent -1, no text)."""

    parent: int
    depth: int
    text: str  # the step
    reward: float  # the step's mean log-prob (its fast reward)
    terminal: bool  # the step ended the solution
    visits: int  # returns backed up through the node
    Q: float | None  # mean of those returns (None: never visited)
    expanded: bool


@dataclass
class IterationTrace(Trace):
    """One iteration: the path selected and simulated (node ids from the root) and its return."""

    path: list[int]
    value: float  # sum of the rewards along the path
    terminal: bool  # the path's last step ended the solution


@dataclass
class MCTSTrace(Trace):
    title = "MCTS"
    nodes: list[TreeNodeTrace]
    iterations: list[IterationTrace]
    answer_path: list[int]  # the path the response follows
    completed: bool  # no terminal path was found: the answer path got a final completion
    completion: str = ""

    def valued_steps(self) -> list[list[tuple[str, float]]]:
        """Step-value accuracy's view (`foresight.eval.step_values`): at every node, its visited
        children valued by Q, each leading where the best-returning rollout through it ended:
        that path's steps when it ended the solution, "" (no answer) when it hit the depth limit."""
        best: dict[int, IterationTrace] = {}
        for iteration in self.iterations:
            for index in iteration.path[1:]:
                if index not in best or iteration.value > best[index].value:
                    best[index] = iteration
        children: dict[int, list[tuple[str, float]]] = {}
        for index, node in enumerate(self.nodes):
            if node.Q is not None and node.parent >= 0:
                children.setdefault(node.parent, []).append((self._outcome(best[index]), node.Q))
        return list(children.values())

    def _outcome(self, iteration: IterationTrace) -> str:
        return "\n".join(self.nodes[i].text for i in iteration.path[1:]) if iteration.terminal else ""


@dataclass(eq=False)
class _Node:
    index: int
    parent: "_Node | None"
    depth: int
    text: str
    reward: float
    terminal: bool
    children: "list[_Node] | None" = None
    returns: list[float] = field(default_factory=list)

    def steps(self) -> list[str]:
        """The step texts from the root to this node."""
        node, steps = self, []
        while node.parent is not None:
            steps.append(node.text)
            node = node.parent
        return steps[::-1]

    def trace(self) -> TreeNodeTrace:
        return TreeNodeTrace(
            parent=-1 if self.parent is None else self.parent.index, depth=self.depth, text=self.text,
            reward=self.reward, terminal=self.terminal, visits=len(self.returns),
            Q=sum(self.returns) / len(self.returns) if self.returns else None, expanded=self.children is not None,
        )


def uct_value(config: MCTSConfig, parent: _Node, child: _Node) -> float:
    """Q(child) + w·sqrt(ln N(parent) / max(1, N(child))); an unvisited child's Q is its fast
    reward (or 0 with `uct_with_fast_reward` off)."""
    if child.returns:
        q = sum(child.returns) / len(child.returns)
    else:
        q = child.reward if config.uct_with_fast_reward else 0.0
    visits = len(parent.returns)
    explore = math.sqrt(math.log(visits) / max(1, len(child.returns))) if visits else 0.0
    return q + config.exploration_weight * explore


def mcts_program(config: MCTSConfig, context: StrategyContext) -> Program:
    root_prompt = context.prompt + config.step_prefix
    root = _Node(0, None, 0, "", 0.0, False)
    nodes = [root]
    iterations: list[IterationTrace] = []
    best_terminal: tuple[float, list[_Node]] | None = None
    best_any: tuple[float, list[_Node]] | None = None

    def stops(node: _Node) -> bool:
        return node.terminal or node.depth >= config.max_depth

    def expand(node: _Node) -> Requests:
        (completion,) = yield [GenerationRequest(
            root_prompt + "".join(step + "\n" for step in node.steps()), n=config.rollouts,
            temperature=config.step_temperature, max_tokens=config.max_step_tokens, stop=("\n",), seed=context.seed())]
        node.children = []
        for sample in completion.samples:
            child = _Node(len(nodes), node, node.depth + 1, sample.text, sample.mean_logprob, sample.ended_sequence)
            nodes.append(child)
            node.children.append(child)

    for _ in range(config.iterations):
        path = [root]
        while path[-1].children and not stops(path[-1]):  # select
            parent = path[-1]
            path.append(max(parent.children, key=lambda c: uct_value(config, parent, c)))
        while not stops(path[-1]):  # expand, then simulate greedily on fast reward
            if path[-1].children is None:
                yield from expand(path[-1])
            path.append(max(path[-1].children, key=lambda c: c.reward))
        value = 0.0
        for node in reversed(path):  # back up the suffix sums
            value += node.reward
            node.returns.append(value)
        leaf = path[-1]
        iterations.append(IterationTrace(path=[n.index for n in path], value=value, terminal=leaf.terminal))
        if leaf.terminal and (best_terminal is None or value > best_terminal[0]):
            best_terminal = (value, path)
        if best_any is None or value > best_any[0]:
            best_any = (value, path)

    completion = ""
    if best_terminal is not None:
        answer_path = best_terminal[1]
        response = "\n".join(answer_path[-1].steps())
    else:
        assert best_any is not None  # iterations >= 1
        answer_path = best_any[1]
        beam = Beam(text="".join(step + "\n" for step in answer_path[-1].steps()))
        ((response, sample),) = yield from complete_beams(root_prompt, [beam], config.completion_temperature,
                                                          config.max_tokens, context.rng)
        completion = sample.text if sample is not None else ""
    trace = MCTSTrace(nodes=[n.trace() for n in nodes], iterations=iterations,
                      answer_path=[n.index for n in answer_path], completed=best_terminal is None, completion=completion)
    return StrategyResult(response=response, answer=context.extract(response), trace=trace)
