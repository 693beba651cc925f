"""Self-evaluation guided stochastic beam search (Xie et al. 2023, "Self-Evaluation Guided Beam
Search for Reasoning"): the φ paper's GD baseline (`baselines/Baseline-GD.py`, notes §4).

Each step, every open beam proposes N one-line steps. The model judges each candidate step in a
second conversation, through its own chat template: the user turn is the GD script's (the
problem, the beam's earlier steps each with its verdict, the candidate, and the open block
"# The above step of reasoning is: "; `foresight.tasks.countdown_judge.step_check_prompt`, the
text the embedded countdown model is trained to judge), and the judge's turn is forced to open
with "(", so the one next token is the verdict. Read greedily, its log-prob gives
C = p(correct): P(A) when the token is A; 1 − P(B) when it is B (the most P(A) can then be);
0.5 when it is neither (no information). A path's score is Xie et al.'s

    E = ∏ over its steps of C_t^(1−λ) · P_t^λ,    P_t = exp(mean log-prob of step t),

and the next M beams are drawn without replacement from all M·N candidates with probability
∝ exp(E / τ_t), the temperature annealed as τ_t = τ0 · α^(t−1). After the last step every open
beam is completed (T = 1.0); each completion is judged like a step and scored the same way, and
the answer is drawn by the same rule one step on. An earlier step's verdict, shown to the judge
with the later steps, is (A) when its p(correct) was at least 0.5, else (B).

Defaults. M = N = T = 4 are the released script's. λ = 0.5, τ0 = 0.5 and α = 0.5 are Xie et
al.'s for arithmetic reasoning (their scripts: `--conf_ratio 0`, which their code maps to
λ = 0.5, and `--bs_temperature_decay 0.5`; note that their released GSM8K scripts pass
`--bs_temperature 0`, a deterministic top-M, where the paper samples at τ = 0.5).

The script's bugs, fixed here (notes §4):

* G1: its final score uses exp(p_correct) (range [1, 1.65]) and ignores the completion's
  likelihood, so the final pick is near uniform. Here the completion is scored as a step.
* G2: it samples by softmax(score) at τ = 1 over scores in [0, 1] (max/min ratio <= e, near
  uniform) and its score is the current step's judgement only. Here E is Xie et al.'s product
  over all steps, sampled at their annealed τ.
* G3: its verdict is "any capital A in the free generation", and p is taken from the last token
  holding an A or B (or 1 when there is none). Here the verdict is one token at a forced position.
* G4: for models without a system role the script replaces the judge's instructions by the
  solver's. Here the judge conversation goes through `context.chat`, the model's own template.
* G5: the script puts a GSM8K five-example few-shot before every dataset's judge prompt, and
  its examples write "is (A)" where the query writes "is: ". Here there is no few-shot: the
  system turn is a task-neutral instruction, and every block is written one way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generator

from foresight.driver import Program
from foresight.engine.types import Completion, GenerationRequest, Sample
from foresight.options import option
from foresight.ranges import AT_LEAST_1, POSITIVE, UNIT_INTERVAL, Range
from foresight.strategies.base import StrategyContext, StrategyResult, Trace
from foresight.strategies.selection import softmax
from foresight.strategies.stepwise import BaselineStepSettings, Beam, Candidate, complete_beams, draw_next_beams, roll_out_steps
from foresight.tasks.countdown_judge import CORRECT, INCORRECT, step_check_prompt

JUDGE_INSTRUCTION = (
    "You check solutions one step at a time. Given a problem, the steps so far and one more step, "
    "decide whether that last step is correct: (A) if it is correct, (B) if it is incorrect."
)
#: The judge's turn opens with this; the next token is the verdict.
VERDICT_PREFIX = "("
UNKNOWN_VERDICT_P = 0.5
Past = list[tuple[str, str]]  # a beam's earlier steps, each with its verdict ("(A) Correct" or "(B) Incorrect")

Requests = Generator[list[GenerationRequest], list[Completion], list["Judgement"]]
UNIT_CLOSED = Range(lambda v: 0 <= v <= 1, "in [0, 1]")


@dataclass(frozen=True)
class GuidedConfig(BaselineStepSettings):
    """Guided decoding settings: M, N, T the released script's, λ, τ0, α Xie et al.'s."""

    name: str = "guided"
    beams: int = option(4, "M, beams kept per step")
    rollouts: int = option(4, "N, candidate steps sampled per beam")
    max_steps: int = option(4, "T, steps before the final completion")
    likelihood_weight: float = option(0.5, "lambda in E = prod C^(1-lambda) * P^lambda: the weight of the step likelihood")
    selection_temperature: float = option(0.5, "tau0: beams are drawn by exp(E/tau), tau = tau0 * decay^(step-1)")
    temperature_decay: float = option(0.5, "alpha, the annealing factor of tau per step (1 keeps tau fixed)")

    def __post_init__(self) -> None:
        super().__post_init__()
        AT_LEAST_1.check(self, "beams", "rollouts", "max_steps")
        UNIT_CLOSED.check(self, "likelihood_weight")
        UNIT_INTERVAL.check(self, "temperature_decay")
        POSITIVE.check(self, "selection_temperature")

    @property
    def label(self) -> str:
        return "guided"

    def tau(self, step: int) -> float:
        """The selection temperature at `step` (1-based): τ0 · α^(step−1)."""
        return self.selection_temperature * self.temperature_decay ** (step - 1)


@dataclass
class Judgement(Trace):
    """The judge's verdict on one step: the forced token, and p(correct) read from its log-prob."""

    verdict: str | None  # "A", "B", or None when the token was neither
    token: str
    token_logprob: float
    p_correct: float

    @property
    def shown(self) -> str:
        """The verdict shown to the judge with the later steps: (A) when p(correct) >= 0.5."""
        return CORRECT if self.p_correct >= 0.5 else INCORRECT


@dataclass
class GuidedCandidateTrace(Trace):
    beam: int
    text: str
    score: float  # the step's mean log-prob
    terminal: bool
    judgement: Judgement
    E: float  # the path's score with this step
    weight: float  # probability of being drawn
    selected: bool


@dataclass
class GuidedStepTrace(Trace):
    step: int
    tau: float
    candidates: list[GuidedCandidateTrace]


@dataclass
class GuidedFinalTrace(Trace):
    """One beam's finished solution; a beam that had finished keeps its path's E (no judgement)."""

    text: str
    completion: str
    judgement: Judgement | None
    E: float
    weight: float


@dataclass
class GuidedTrace(Trace):
    title = "guided decoding"
    steps: list[GuidedStepTrace]
    final: list[GuidedFinalTrace]
    chosen: int
    tau: float  # the temperature of the final draw
    stop_reason: str  # "max_steps" or "all_beams_finished"

    def valued_steps(self) -> list[list[tuple[str, float]]]:
        """Step-value accuracy's view (`foresight.eval.step_values`): only the final choice values
        whole solutions (a step's p(correct) judges a step with no path to an answer yet)."""
        return [[(f.text, f.weight) for f in self.final]]


def read_verdict(sample: Sample) -> Judgement:
    """p(correct) from the forced verdict token (see the module docstring)."""
    token = sample.text
    stripped = token.strip()
    letter = stripped[:1] if stripped[1:] in ("", ")") else ""  # "A", "A)"; not "All"
    p = math.exp(sample.logprob)
    if letter == "A":
        return Judgement("A", token, sample.logprob, p)
    if letter == "B":
        return Judgement("B", token, sample.logprob, 1.0 - p)
    return Judgement(None, token, sample.logprob, UNKNOWN_VERDICT_P)


def judge_prompt(context: StrategyContext, past: Past, step: str) -> str:
    """The judge conversation for `step` after the `past` steps, rendered through the model's
    template, with the judge's turn opened up to the verdict token."""
    user = step_check_prompt(context.question, past, step)
    return context.chat([{"role": "system", "content": JUDGE_INSTRUCTION}, {"role": "user", "content": user}]) + VERDICT_PREFIX


def judge(context: StrategyContext, items: list[tuple[Past, str]]) -> Requests:
    """One greedy verdict token per (past steps, step); identical prompts share a request."""
    prompts = [judge_prompt(context, past, step) for past, step in items]
    unique = list(dict.fromkeys(prompts))
    completions = yield [GenerationRequest(p, n=1, temperature=0.0, max_tokens=1, seed=context.seed()) for p in unique]
    verdicts = {p: read_verdict(c.samples[0]) for p, c in zip(unique, completions)}
    return [verdicts[p] for p in prompts]


def step_factor(config: GuidedConfig, judgement: Judgement, mean_logprob: float) -> float:
    """One step's factor of E: C^(1−λ) · P^λ with P = exp(mean log-prob)."""
    lam = config.likelihood_weight
    return judgement.p_correct ** (1 - lam) * math.exp(lam * mean_logprob)


def guided_program(config: GuidedConfig, context: StrategyContext) -> Program:
    rng = context.rng
    root = context.prompt + config.step_prefix
    beams = [Beam(f_prev=1.0) for _ in range(config.beams)]  # f_prev carries the path's E
    # each beam's steps with their verdicts, by the beam's text: beams of one text share one
    # history, since the greedy judge gives identical prompts identical verdicts
    history: dict[str, Past] = {"": []}
    steps: list[GuidedStepTrace] = []
    stop_reason = "max_steps"
    for step in range(1, config.max_steps + 1):
        candidates: list[Candidate] = yield from roll_out_steps(
            root, beams, config.rollouts, config.step_temperature, config.max_step_tokens, rng)
        judgements = yield from judge(context, [(history[beams[c.beam].text], c.step.text) for c in candidates])
        for candidate, judgement in zip(candidates, judgements):
            candidate.value = beams[candidate.beam].f_prev * step_factor(config, judgement, candidate.step.mean_logprob)
        weights = softmax([c.value for c in candidates], config.tau(step))
        parents = beams
        drawn, beams = draw_next_beams(config.beams, beams, candidates, weights, rng)
        for i, beam in zip(drawn, beams[len(beams) - len(drawn):]):  # the drawn beams come last
            history[beam.text] = history[parents[candidates[i].beam].text] + [(candidates[i].step.text, judgements[i].shown)]
        steps.append(GuidedStepTrace(step, config.tau(step), [
            GuidedCandidateTrace(c.beam, c.step.text, c.step.mean_logprob, c.terminal, j, c.value, c.weight, c.selected)
            for c, j in zip(candidates, judgements)]))
        if all(beam.finished for beam in beams):
            stop_reason = "all_beams_finished"
            break
    solutions = yield from complete_beams(root, beams, config.completion_temperature, config.max_tokens, rng)
    completed = [i for i, (_, sample) in enumerate(solutions) if sample is not None]
    verdicts = yield from judge(context, [(history[beams[i].text], solutions[i][1].text) for i in completed])
    judged: dict[int, Judgement] = dict(zip(completed, verdicts))
    scores = [beam.f_prev * step_factor(config, judged[i], sample.mean_logprob) if i in judged else beam.f_prev
              for i, (beam, (_, sample)) in enumerate(zip(beams, solutions))]
    tau = config.tau(len(steps) + 1)
    weights = softmax(scores, tau)
    chosen = int(rng.choice(len(beams), p=weights))
    final = [GuidedFinalTrace(text, sample.text if sample is not None else "", judged.get(i), score, float(w))
             for i, ((text, sample), score, w) in enumerate(zip(solutions, scores, weights))]
    response = solutions[chosen][0]
    trace = GuidedTrace(steps=steps, final=final, chosen=chosen, tau=tau, stop_reason=stop_reason)
    return StrategyResult(response=response, answer=context.extract(response), trace=trace)

