"""Answer a step-level strategy's requests with constructed samples, to test its rules exactly."""

import numpy as np

from foresight.engine.types import Completion, Sample
from foresight.strategies.base import StrategyContext


def plain_chat(messages):
    """A chat template for scripted prompts: each turn as 'role: content' on its own line."""
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "


def context(prompt, extract, rng, render=plain_chat):
    """The StrategyContext of a question whose rendered prompt is `prompt`."""
    return StrategyContext(question=prompt, prompt=prompt, render=render, extract=extract, rng=rng)


def sample(text, mean_logprob=-0.5, ended=False, tokens=4):
    return Sample(text=text, num_tokens=tokens, logprob=mean_logprob * tokens, finish_reason="stop",
                  stop_string=None if ended else "\n")


def drive(program_function, config, step_sample, foresight_sample, seed=0):
    """Run a step-level strategy program, answering step requests (stop at newline) with `step_sample(step, beam_text, i)`
    and foresight/final requests with `foresight_sample(prompt)`; returns the result and requests seen."""
    program = program_function(config, context("PROMPT ", lambda text: text.rsplit(" ", 1)[-1] or None,
                                               np.random.default_rng(seed)))
    seen = []
    requests = program.send(None)
    try:
        while True:
            seen.append(requests)
            answers = []
            for request in requests:
                if request.stop == ("\n",):
                    beam_text = request.prompt[len("PROMPT " + config.step_prefix):]
                    step = beam_text.count("\n") + 1
                    answers.append(Completion(tuple(step_sample(step, beam_text, i) for i in range(request.n)), 3, 3))
                else:
                    answers.append(Completion((foresight_sample(request.prompt),), 3, 3))
            requests = program.send(answers)
    except StopIteration as stop:
        return stop.value, seen
