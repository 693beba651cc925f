"""`foresight serve` driven by the official openai SDK (sync and async, chat and completions,
stream and not): a seeded request gets exactly `foresight run`'s answer for the same question."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from foresight.cli import main
from foresight.tasks.arith_task import ArithTask
from serving import LiveServer

SEED = 3
QUESTIONS = 2
# The CLI's strategy flags and the model names (plus SDK fields) that ask for the same configs.
CLI_FLAGS = ["--strategy", "cot,sc,phi", "--n", "4", "--beams", "2", "--rollouts", "2"]
LABELS = {"cot": "cot", "sc@4": "sc@4", "phi@2x2": "phi"}


@pytest.fixture(scope="module")
def cli_records(tmp_path_factory):
    """`foresight run` on the first questions of the arith task: {label: {question id: record}}."""
    out = tmp_path_factory.mktemp("cli")
    assert main(["run", "--task", "arith", "--limit", str(QUESTIONS), "--seed", str(SEED), "--out", str(out),
                 "--no-progress", "--threads", "1", *CLI_FLAGS]) == 0
    return {label: {r["id"]: r for r in map(json.loads, (out / label / "records.jsonl").read_text().splitlines())}
            for label in LABELS.values()}


@pytest.fixture(scope="module")
def server():
    with LiveServer() as live:
        yield live


@pytest.fixture(scope="module")
def questions():
    task = ArithTask()
    return task, task.questions()[:QUESTIONS]


def chat_args(task, question, model):
    return dict(model=model, messages=task.messages(question), seed=SEED,
                extra_body={"foresight": {"question_id": question.id}})


def check(record, text, info, usage):
    assert text == record["response"]
    assert info["answer"] == record["prediction"]
    assert info["generated_tokens"] == record["generated_tokens"] == usage.completion_tokens
    assert info["paper_flops"] == record["paper_flops"]


@pytest.mark.parametrize("model", list(LABELS))
def test_sync_chat_equals_cli(server, cli_records, questions, model):
    task, items = questions
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    for question in items:
        reply = client.chat.completions.create(**chat_args(task, question, model))
        check(cli_records[LABELS[model]][question.id], reply.choices[0].message.content, reply.model_extra["foresight"], reply.usage)
        assert reply.usage.prompt_tokens > 0 and reply.choices[0].finish_reason == "stop"


def test_async_chat_stream_equals_cli(server, cli_records, questions):
    """One search at a time, so each runs in engine calls of its own (see test_serve_load for
    concurrent clients: the in-process engine's logits can differ in the last bit with what
    shares a batch, which on rare occasions changes a multi-step search's sample)."""
    task, items = questions

    async def ask_each():
        client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="unused")
        replies = []
        for question in items:
            stream = await client.chat.completions.create(stream=True, **chat_args(task, question, "phi@2x2"))
            replies.append([chunk async for chunk in stream])
        return replies

    for question, chunks in zip(items, asyncio.run(ask_each())):
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[1].choices[0].finish_reason == "stop"
        last = chunks[-1]
        assert last.choices == [] and last.usage is not None
        check(cli_records["phi"][question.id], text, last.model_extra["foresight"], last.usage)


def test_completions_sync_and_async_stream_equal_cli(server, cli_records, questions):
    """Completions take the prompt as it is: the rendered chat prompt gives the CLI's answer."""
    task, items = questions
    engine = server.host.engine
    prompts = {q.id: engine.render_chat(task.messages(q)) for q in items}
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    for question in items:
        reply = client.completions.create(model="sc@4", prompt=prompts[question.id], seed=SEED,
                                          extra_body={"foresight": {"question_id": question.id}})
        check(cli_records["sc@4"][question.id], reply.choices[0].text, reply.model_extra["foresight"], reply.usage)

    async def streamed(question):
        client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="unused")
        stream = await client.completions.create(model="cot", prompt=prompts[question.id], seed=SEED, stream=True)
        return [chunk async for chunk in stream]

    for question in items:
        chunks = asyncio.run(streamed(question))
        text = "".join(c.choices[0].text for c in chunks if c.choices)
        check(cli_records["cot"][question.id], text, chunks[-1].model_extra["foresight"], chunks[-1].usage)


def test_seed_without_question_id_is_keyed_by_the_prompt(server, questions):
    task, items = questions
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    ask = lambda seed: client.chat.completions.create(model="sc@4", messages=task.messages(items[0]), seed=seed,
                                                      extra_body={"foresight": {"trace": True}})
    first, again, other = ask(11), ask(11), ask(12)
    samples = lambda reply: [s["text"] for s in reply.model_extra["foresight"]["trace"]["samples"]]
    assert samples(first) == samples(again) != samples(other)
    unseeded = client.chat.completions.create(model="cot", messages=task.messages(items[0]))
    assert isinstance(unseeded.model_extra["foresight"]["seed"], int)  # a fresh seed, reported back
    assert unseeded.model_extra["foresight"]["trace"] is None  # the trace only on request


def test_models_lists_every_strategy_and_phi_released_is_the_preset(server, questions):
    task, items = questions
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["cot", "sc", "bon", "phi", "phi-released", "predictive",
                                                     "tot", "wsc", "mcts", "guided"]
    reply = client.chat.completions.create(model="phi-released@1x2", messages=task.messages(items[0]), seed=0)
    info = reply.model_extra["foresight"]
    assert info["strategy"] == "phi-released" and info["config"]["preset"] == "released"
    assert info["config"]["advantage_temperature"] == 0.1 and info["config"]["beams"] == 1


def cli_error(capsys, *flags) -> str:
    assert main(["run", "--task", "arith", "--limit", "1", "--no-progress", *flags]) == 2
    return capsys.readouterr().err.strip().removeprefix("foresight: error: ")


@pytest.mark.parametrize("flags, options", [
    (["--strategy", "phi", "--beams", "0"], {"beams": 0}),
    (["--strategy", "phi", "--depth-threshold", "1.5"], {"depth_threshold": 1.5}),
    (["--strategy", "predictive", "--max-steps", "0"], {"max_steps": 0}),
])
def test_option_errors_have_the_cli_text_and_name_the_field(server, questions, capsys, flags, options):
    task, items = questions
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=flags[1], messages=task.messages(items[0]), extra_body={"foresight": options})
    field = f"foresight.{next(iter(options))}"
    assert refused.value.message.endswith(cli_error(capsys, *flags).replace(flags[2], field))
    assert refused.value.param == field


@pytest.mark.parametrize("model, fields, param", [
    ("phi", {"temperature": 0.5}, "temperature"),  # phi has no temperature: refused, not ignored
    ("cot", {"n": 2}, "n"),
    ("cot", {"stop": ["\n"]}, "stop"),  # no strategy takes stop strings yet
    ("sc@4", {"n": 8}, "n"),  # the model name already fixed n
    ("sc", {"temperature": 0}, "temperature"),  # SamplingConfig's own check
    ("cot", {"logprobs": True}, "logprobs"),  # an OpenAI field foresight does not honour
    ("phi", {"foresight": {"beams": "2"}}, "foresight.beams"),  # typed as the CLI's flag
    ("phi", {"foresight": {"clustering": "words"}}, "foresight.clustering"),
    ("phi", {"foresight": {"no_such": 1}}, "foresight.no_such"),
    ("cot", {"foresight": {"max_tokens": 0}}, "foresight.max_tokens"),  # CoTConfig's token range
    ("sc", {"foresight": {"top_p": 5.0}}, "foresight.top_p"),
])
def test_fields_map_where_the_strategy_has_them_and_are_refused_where_not(server, questions, model, fields, param):
    task, items = questions
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=task.messages(items[0]), extra_body=fields)
    assert refused.value.param == param
    assert refused.value.body["type"] == "invalid_request_error"


@pytest.mark.parametrize("model", ["gpt-4o", "cot@4", "sc@0", "phi@4", "phi-fast"])
def test_unknown_model_is_404_naming_the_choices(server, questions, model):
    task, items = questions
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
    with pytest.raises(openai.NotFoundError) as refused:
        client.chat.completions.create(model=model, messages=task.messages(items[0]))
    assert refused.value.param == "model" and refused.value.code == "model_not_found"
