"""The flags of run, sweep and genius come from the config dataclasses: each option is defined
once, its default in --help is the dataclass default, and run --help lists every option as a
flag (an option printed as a bare positional was a bug of the hand-kept tables)."""

from __future__ import annotations

import argparse
import dataclasses
import re

import pytest

from foresight.cli import _strategies, build_parser, main
from foresight.genius.cli import _resampling_config, _training_settings
from foresight.genius.loop import GeniusRunConfig
from foresight.genius.resampling import ResamplingConfig
from foresight.genius.train import LoraSettings, TrainingSettings
from foresight.strategies import STRATEGIES, make_strategy


def subparser(*path: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


def help_entries(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each flag's help text as --help prints it (wrapped lines joined), by flag."""
    entries: dict[str, str] = {}
    current = None
    for line in parser.format_help().splitlines():
        match = re.match(r"^  (--[a-z0-9-]+)", line)
        if match:
            current = match.group(1)
            entries[current] = line
        elif current is not None and line.startswith("      "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return {flag: " ".join(text.split()) for flag, text in entries.items()}


def shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def option_fields(config_class):
    return [f for f in dataclasses.fields(config_class) if f.name != "name" and not dataclasses.is_dataclass(f.type)
            and f.name != "training"]


def test_every_config_field_is_an_option_with_help():
    for config_class in [r.config_class for r in STRATEGIES.values()] + [ResamplingConfig, TrainingSettings,
                                                                          LoraSettings, GeniusRunConfig]:
        for field in option_fields(config_class):
            assert field.metadata.get("help"), f"{config_class.__name__}.{field.name} has no help"


@pytest.mark.parametrize("command", [("run",), ("sweep",)])
def test_run_and_sweep_show_every_strategy_option_once_with_each_strategys_default(command):
    entries = help_entries(subparser(*command))
    for name, registered in STRATEGIES.items():
        for field in option_fields(registered.config_class):
            flag = "--" + field.name.replace("_", "-")
            text = entries[flag]
            default = field.default
            # the flag names the strategies that take it, each with its own default
            owner_part = next(part for part in re.split(r"(?<=\)); ", text) if re.search(rf"\b{name}\b", part.split(":")[0]))
            assert f"(default {shown(default)}" in owner_part, (flag, name, text)
    help_text = subparser(*command).format_help()
    assert help_text.count("--beams") == 2  # once in the usage line, once in the options


def test_no_flags_build_each_strategys_dataclass_defaults():
    args = build_parser().parse_args(["run", "--strategy", ",".join(STRATEGIES)])
    for config in _strategies(args):
        expected = make_strategy(config.name)
        assert config == expected
        for field in dataclasses.fields(config):
            if field.name not in ("name",) and field.default is not dataclasses.MISSING:
                assert getattr(config, field.name) == field.default, (config.name, field.name)


@pytest.mark.parametrize(("argv", "build", "config_class"), [
    (["genius", "sample", "--queries", "2", "--out", "o"], _resampling_config, ResamplingConfig),
    (["genius", "run"], _resampling_config, ResamplingConfig),
    (["genius", "train", "--pairs", "p", "--out", "o"], _training_settings, TrainingSettings),
    (["genius", "run"], _training_settings, TrainingSettings),
])
def test_genius_flags_default_to_their_dataclass_and_help_says_so(argv, build, config_class):
    args = build_parser().parse_args(argv)
    assert build(args) == config_class()
    entries = help_entries(subparser(*argv[:2]))
    for field in option_fields(config_class):
        flag = "--" + field.metadata.get("flag", field.name.replace("_", "-"))
        assert f"(default {shown(field.default)})" in entries[flag], (flag, entries[flag])


def test_genius_run_and_lora_flags_default_to_their_dataclass():
    entries = help_entries(subparser("genius", "run"))
    for field in option_fields(GeniusRunConfig):
        assert f"(default {shown(field.default)})" in entries["--" + field.name.replace("_", "-")]
    entries = help_entries(subparser("genius", "train"))
    for field in option_fields(LoraSettings):
        assert f"(default {shown(field.default)})" in entries["--" + field.metadata["flag"]]


def test_run_help_lists_every_option_with_its_dashes():
    run = subparser("run")
    assert all(action.option_strings for action in run._actions), [a.dest for a in run._actions if not a.option_strings]
    usage = run.format_usage()
    for flag in ("--strategy", "--n", "--beams", "--rollouts", "--out", "--limit", "--seed"):
        assert re.search(rf"\[{flag}[ \]]", usage), flag


def test_a_stray_word_is_an_unrecognized_argument_not_a_strategy(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--limit", "2", "runs/x"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: runs/x" in capsys.readouterr().err


def test_version(capsys):
    from foresight import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"foresight {__version__}"


def test_build_arith_model_takes_its_own_flags(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["build-arith-model", "--help"])
    printed = capsys.readouterr().out
    assert exit_.value.code == 0 and all(flag in printed for flag in ("--out", "--steps", "--minutes"))
    assert main(["build-arith-model", "--out", str(tmp_path / "m"), "--steps", "2", "--minutes", "1"]) == 0
    assert "after 2 steps" in capsys.readouterr().out
    assert (tmp_path / "m" / "model.safetensors").is_file() and "--steps 2" in (tmp_path / "m" / "TRAINING.md").read_text()
