"""`Driver.serve`: the long-lived loop a server feeds, batching newcomers with live programs."""

from __future__ import annotations

from foresight.driver import Driver, Job, ProgramCancelled
from foresight.strategies import STRATEGIES, StrategyContext, make_strategy
from foresight.tasks.arith_task import ArithTask

TASK = ArithTask(size=6)
QUESTIONS = TASK.questions()
SC = make_strategy("sc", n=2, max_tokens=120)


class WaveFeed:
    """The real engine behind a feed that releases its next wave of jobs at each engine call
    (as clients arriving while a search runs), recording each call's prompts."""

    def __init__(self, engine, waves, cancel=()):
        self.engine, self.waves, self.cancel, self.calls = engine, [list(w) for w in waves], set(cancel), []
        self.model_id, self.num_parameters = engine.model_id, engine.num_parameters
        self.ready = self.waves.pop(0)

    def generate(self, requests):
        self.calls.append([r.prompt for r in requests])
        if self.waves:
            self.ready += self.waves.pop(0)
        return self.engine.generate(requests)

    def take(self, block):
        if not self.ready and block and self.waves:
            self.ready += self.waves.pop(0)
        return self.ready.pop(0) if self.ready else None

    def cancelled(self, key):
        return key in self.cancel


def job(engine, question, strategy=SC):
    context = StrategyContext.for_messages(engine.render_chat, TASK.messages(question), TASK.extract_answer, 1,
                                           question.id, question.text)
    return Job(question.id, STRATEGIES[strategy.name].program(strategy, context))


def serve(feed):
    done, failed = {}, {}
    Driver(feed).serve(feed, lambda key, result, usage: done.__setitem__(key, result),
                       lambda key, error: failed.__setitem__(key, error))
    return done, failed


def test_jobs_arriving_while_others_run_join_their_engine_calls(arith_engine):
    phi = make_strategy("phi", beams=1, rollouts=2, max_steps=2)
    first, later = QUESTIONS[:2], QUESTIONS[2:]
    feed = WaveFeed(arith_engine, [[job(arith_engine, q, phi) for q in first], [job(arith_engine, q) for q in later]])
    done, failed = serve(feed)
    assert not failed and sorted(done) == sorted(q.id for q in QUESTIONS)
    reference = {}
    Driver(arith_engine).run([job(arith_engine, q, phi) for q in first] + [job(arith_engine, q) for q in later],
                             lambda key, result, usage: reference.__setitem__(key, result))
    # The sampled jobs' answers equal a plain run's: the served loop delivers each result to its own
    # job. (phi's are not compared: its clustering and weighted draws can turn the 1e-6 logit
    # differences of another batch composition into another step.)
    newcomers = {q.id for q in later}
    assert {k: done[k].answer for k in newcomers} == {k: reference[k].answer for k in newcomers}
    assert all(done[q.id].trace.steps for q in first)
    prompts = lambda questions: {arith_engine.render_chat(TASK.messages(q)) for q in questions}
    second_call = feed.calls[1]
    assert prompts(later) <= set(second_call)  # the newcomers' requests ...
    assert any(p.startswith(tuple(prompts(first))) for p in second_call)  # ... share a call with live searches


def test_a_cancelled_program_is_dropped_and_reported(arith_engine):
    phi = make_strategy("phi", beams=1, rollouts=2, max_steps=3)
    feed = WaveFeed(arith_engine, [[job(arith_engine, QUESTIONS[0], phi), job(arith_engine, QUESTIONS[1], phi)]])
    feed.generate = lambda requests, generate=feed.generate: (feed.cancel.add(QUESTIONS[0].id), generate(requests))[1]
    done, failed = serve(feed)
    assert list(done) == [QUESTIONS[1].id]
    assert isinstance(failed[QUESTIONS[0].id], ProgramCancelled)
    prompt = arith_engine.render_chat(TASK.messages(QUESTIONS[0]))
    assert all(not p.startswith(prompt) for call in feed.calls[1:] for p in call)  # none of its requests ran again


def test_a_failing_program_or_engine_call_fails_only_its_programs(arith_engine):
    def broken(rng_unused=None):
        yield []
        raise RuntimeError("strategy bug")

    poisoned = QUESTIONS[2]
    engine_calls = []

    class Flaky(WaveFeed):
        def generate(self, requests):
            engine_calls.append(len(requests))
            if any(r.prompt.startswith(arith_engine.render_chat(TASK.messages(poisoned))) for r in requests):
                raise ConnectionError("server gone")
            return super().generate(requests)

    feed = Flaky(arith_engine, [[Job("broken", broken()), job(arith_engine, poisoned)], [job(arith_engine, QUESTIONS[0])]])
    done, failed = serve(feed)
    assert list(done) == [QUESTIONS[0].id]
    assert str(failed["broken"]) == "strategy bug" and isinstance(failed[poisoned.id], ConnectionError)
