"""Tree-of-Thought, BFS with the model voting (Yao et al. 2023), the φ paper's ToT baseline.

As the authors' `Baseline-ToT.py` runs it (shared/notes/released-baselines.md §2): M beams;
each step every open beam proposes N one-line steps; **one** vote prompt lists all M·N
candidates (each as its beam's steps, a newline and the new step), the model answers it
`votes` times, and the M candidates with most votes become the next beams. After T steps every
beam is completed and one more vote among the M whole solutions picks the answer. Steps,
completions and the step prefix are the project's machinery, as in φ-Decoding; the vote prompt
is the script's text (`foresight.tasks.countdown_judge.vote_prompt`, which the embedded
countdown model was trained on), asked through the model's chat template after the task's own
turns before the question (the script's solver system prompt and its few-shot).

The script's bugs, fixed here:

* T1: votes are tallied over all M·N candidates (the script tallies M·M slots, so only the
  first M² samples of beam 0 can win).
* T2: the final vote is asked, parsed and obeyed (the script parses a re-completion of beam 0
  instead, so its answer is a uniformly random beam, and spends M extra completions).
* T3: the final vote's choices are the finished solutions, step T included (the script lists
  the prefixes from before step T).
* The id is the whole number after the last "best choice is" (any case), so ids of 10 and up
  read right; the script's regex keeps only the last digit ("is 12" → 2).
* A vote without a parsable id in range abstains (`unparsable_vote="abstain"`): it says nothing
  about the candidates. `unparsable_vote="random"` is the script's rule, a vote for a uniformly
  random id (drawn from the question's generator).
* Ties in the tally go to the candidate with the higher mean log-prob (its step's; at the
  final vote, its completion's), then to the lower id; the script's follow numpy's argsort,
  which on an all-zero tally keeps the highest ids.
* T4 (an exception drops the question from the results) does not arise: the driver records
  every question.

Like φ-Decoding here (and unlike the script, which has no termination test), a beam whose step
ends the solution is finished: it keeps its place and proposes no more steps; the search stops
early once every beam is finished. Token caps follow the project's other step searches (128 per
step, 512 per completion) rather than the script's 1024 and 3000, so Table 1's methods share
them; the vote's cap is the script's 4096.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from foresight.driver import Program
from foresight.engine.types import GenerationRequest, Sample
from foresight.errors import OptionValueError
from foresight.options import option
from foresight.ranges import AT_LEAST_1, POSITIVE, TOKEN_COUNT
from foresight.strategies.base import Message, StrategyContext, StrategyResult, Trace
from foresight.strategies.stepwise import BaselineStepSettings, Beam, Candidate, Requests, accept, complete_beams, roll_out_steps
from foresight.tasks.countdown_judge import vote_prompt

UNPARSABLE_VOTES = ("abstain", "random")
_CHOICE = re.compile(r"best choice is\s*:?\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class TotConfig(BaselineStepSettings):
    """Tree-of-Thought settings; defaults are the authors' script's (released-baselines §2)."""

    name: str = "tot"
    beams: int = option(2, "M: beams kept per step")
    rollouts: int = option(8, "N: candidate steps sampled per beam")
    max_steps: int = option(4, "T: steps before the final completion")
    votes: int = option(2, "samples of each step's vote prompt (the script draws M of them)")
    final_votes: int = option(1, "samples of the final vote among the completed beams")
    vote_temperature: float = option(1.0, "sampling temperature of the votes")
    vote_max_tokens: int = option(4096, "cap on one vote's tokens")
    unparsable_vote: str = option("abstain", "a vote with no parsable choice id abstains, or votes for a random id "
                                             "(random, the script's rule)", choices=UNPARSABLE_VOTES)

    def __post_init__(self) -> None:
        super().__post_init__()
        AT_LEAST_1.check(self, "beams", "rollouts", "max_steps", "votes", "final_votes")
        TOKEN_COUNT.check(self, "vote_max_tokens")
        POSITIVE.check(self, "vote_temperature")
        if self.unparsable_vote not in UNPARSABLE_VOTES:
            raise OptionValueError("unparsable_vote", f"one of {', '.join(UNPARSABLE_VOTES)}", self.unparsable_vote)

    @property
    def label(self) -> str:
        return "tot" if self.unparsable_vote == "abstain" else "tot-random-votes"


@dataclass
class Ballot(Trace):
    """One sample of a vote prompt: its text, the id it names, and the id its vote went to."""

    text: str
    parsed: int | None  # the 1-based id after the last "best choice is" (None: none, or out of range)
    voted: int | None  # the id that got this vote (None: it abstained; differs from parsed under random votes)


@dataclass
class TotCandidate(Trace):
    """One proposed step and the votes it drew."""

    beam: int
    text: str
    score: float  # the step's mean log-prob (the tally's tie-break)
    terminal: bool  # the step ended the solution
    votes: int
    selected: bool


@dataclass
class TotStep(Trace):
    step: int  # 1-based
    candidates: list[TotCandidate]
    ballots: list[Ballot]


@dataclass
class TotSolution(Trace):
    """One beam's finished solution as the final vote saw it."""

    text: str  # the beam's steps and its completion
    score: float  # mean log-prob of its completion (a finished beam: of its last step)
    votes: int


@dataclass
class TotTrace(Trace):
    title = "tree of thought"
    steps: list[TotStep]
    solutions: list[TotSolution]
    final_ballots: list[Ballot]  # empty when one beam needs no vote
    chosen: int
    stop_reason: str  # "max_steps" or "all_beams_finished"


def parse_choice(text: str, choices: int) -> int | None:
    """The 1-based id named after the last "best choice is" in `text`, None when there is none
    or it is not among `choices`."""
    found = _CHOICE.findall(text)
    if not found:
        return None
    choice = int(found[-1])
    return choice if 1 <= choice <= choices else None


def _vote(config: TotConfig, context: StrategyContext, choices: list[str], samples: int) -> Requests:
    """Ask the vote prompt over `choices` `samples` times; returns the tally and the ballots."""
    prompt = context.chat([*_turns_before_question(context), {"role": "user", "content": vote_prompt(context.question, choices)}])
    (completion,) = yield [GenerationRequest(prompt, n=samples, temperature=config.vote_temperature,
                                             max_tokens=config.vote_max_tokens, seed=context.seed())]
    tally = [0] * len(choices)
    ballots = []
    for sample in completion.samples:
        parsed = parse_choice(sample.text, len(choices))
        voted = parsed
        if parsed is None and config.unparsable_vote == "random":
            voted = int(context.rng.integers(len(choices))) + 1
        if voted is not None:
            tally[voted - 1] += 1
        ballots.append(Ballot(sample.text, parsed, voted))
    return tally, ballots


def _turns_before_question(context: StrategyContext) -> list[Message]:
    """The task's turns before the question itself (system prompt, few-shot exemplars): the
    voter gets the solver's instructions, as in the script."""
    return list(context.messages[:-1])


def ranking(votes: list[int], scores: list[float]) -> list[int]:
    """Indices from most to fewest votes; ties by higher score, then lower index."""
    return sorted(range(len(votes)), key=lambda i: (-votes[i], -scores[i], i))


def tot_program(config: TotConfig, context: StrategyContext) -> Program:
    root = context.prompt + config.step_prefix
    beams = [Beam() for _ in range(config.beams)]
    last_scores = [0.0] * config.beams  # mean log-prob of each beam's last step
    steps: list[TotStep] = []
    stop_reason = "max_steps"
    for step in range(1, config.max_steps + 1):
        candidates: list[Candidate] = yield from roll_out_steps(root, beams, config.rollouts, config.step_temperature,
                                                                config.max_step_tokens, context.rng)
        choices = [config.step_prefix + beams[c.beam].text + "\n" + c.step.text for c in candidates]
        tally, ballots = yield from _vote(config, context, choices, config.votes)
        scores = [c.step.mean_logprob for c in candidates]
        kept = ranking(tally, scores)[: sum(not b.finished for b in beams)]
        finished = [i for i, b in enumerate(beams) if b.finished]
        last_scores = [last_scores[i] for i in finished] + [scores[i] for i in kept]
        beams = [beams[i] for i in finished] + [accept(beams[candidates[i].beam], candidates[i]) for i in kept]
        steps.append(TotStep(step, [TotCandidate(c.beam, c.step.text, c.step.mean_logprob, c.terminal, tally[i], i in kept)
                                    for i, c in enumerate(candidates)], ballots))
        if all(b.finished for b in beams):
            stop_reason = "all_beams_finished"
            break
    solutions = yield from complete_beams(root, beams, config.completion_temperature, config.max_tokens, context.rng)
    chosen, records, final_ballots = yield from _final_vote(config, context, solutions, last_scores)
    response = solutions[chosen][0]
    trace = TotTrace(steps, records, final_ballots, chosen, stop_reason)
    return StrategyResult(response=response, answer=context.extract(response), trace=trace)


def _final_vote(config: TotConfig, context: StrategyContext, solutions: list[tuple[str, Sample | None]],
                last_scores: list[float]) -> Requests:
    """The vote among the completed beams (T2, T3 fixed): the chosen index, the solutions'
    records and the ballots. One beam is its own answer, with no vote asked."""
    scores = [last if sample is None else sample.mean_logprob for (_, sample), last in zip(solutions, last_scores)]
    tally, ballots = [0] * len(solutions), []
    if len(solutions) > 1:
        tally, ballots = yield from _vote(config, context, [config.step_prefix + text for text, _ in solutions],
                                          config.final_votes)
    chosen = ranking(tally, scores)[0]
    records = [TotSolution(text, score, votes) for (text, _), score, votes in zip(solutions, scores, tally)]
    return chosen, records, ballots
