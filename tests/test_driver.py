"""The driver: batching across questions changes nothing but speed."""

import numpy as np

from foresight.driver import Driver, Job
from foresight.strategies import STRATEGIES, StrategyContext, make_strategy
from foresight.tasks.arith_task import ArithTask


class CountingEngine:
    """Wraps the real engine and records the number of sample rows of each call."""

    def __init__(self, engine):
        self.engine, self.calls = engine, []
        self.model_id, self.num_parameters = engine.model_id, engine.num_parameters

    def generate(self, requests):
        self.calls.append(sum(r.n for r in requests))
        return self.engine.generate(requests)


def run_programs(engine, questions, task, strategy, batch_size, max_live):
    results = {}
    jobs = (
        Job(q.id, STRATEGIES[strategy.name].program(strategy, StrategyContext.for_messages(
            engine.engine.render_chat, task.messages(q), task.extract_answer, 7, q.id, q.text)))
        for q in questions
    )
    Driver(engine, batch_size=batch_size, max_live=max_live).run(
        jobs, lambda key, result, usage: results.__setitem__(key, (result, usage))
    )
    return results


def test_together_or_one_by_one_gives_identical_results(arith_engine):
    task = ArithTask(size=6)
    questions = task.questions()
    strategy = make_strategy("sc", n=4, temperature=1.0, max_tokens=150)
    together_engine = CountingEngine(arith_engine)
    together = run_programs(together_engine, questions, task, strategy, batch_size=16, max_live=64)
    one_by_one = {}
    for question in questions:
        one_by_one |= run_programs(CountingEngine(arith_engine), [question], task, strategy, batch_size=4, max_live=1)
    assert together.keys() == one_by_one.keys()
    for key in together:
        (a, usage_a), (b, usage_b) = together[key], one_by_one[key]
        assert a.answer == b.answer and a.response == b.response
        assert [s.text for s in a.trace.samples] == [s.text for s in b.trace.samples]
        assert usage_a.generated_tokens == usage_b.generated_tokens
    assert max(together_engine.calls) <= 16 and len(together_engine.calls) == 2  # 24 rows in calls of 16 + 8


def test_usage_accounts_tokens_and_flops(arith_engine):
    task = ArithTask(size=2)
    results = run_programs(CountingEngine(arith_engine), task.questions(), task, make_strategy("bon", n=3, max_tokens=150), 64, 8)
    for result, usage in results.values():
        assert usage.samples == 3 and usage.requests == 1
        assert usage.generated_tokens == sum(s.num_tokens for s in result.trace.samples)
        assert usage.paper_flops(100) == 600 * usage.generated_tokens
        assert usage.inference_flops(100) == 200 * (usage.prefill_tokens + usage.generated_tokens)
        best = int(np.argmax([s.mean_logprob for s in result.trace.samples]))
        assert result.trace.chosen == best and result.response == result.trace.samples[best].text
