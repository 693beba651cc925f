"""Command-line flags generated from config dataclasses: every option is defined once.

A config field is the option: its name gives the flag (`max_steps` -> `--max-steps`, or
`metadata["flag"]`), its type the parser (a tuple field takes a comma list), its default the
default, and `field(metadata={"help": ...})` the help text (TRL's style); `metadata["choices"]`
lists the values a text field takes (`metadata["noun"]` names one in an error). Fields without
help (a config's `name`) are not options.

One flag serves every config that has the field: `--beams` appears once in `foresight run
--help`, naming the strategies that take it with each one's default, and the value given goes
to each of them. A flag's parser default is None, meaning "not given": the config's own default
applies, so `--help` and the configs cannot disagree. `foresight sweep` gets the same flags as
comma lists. A value outside a field's range is refused by the config itself (its
`__post_init__`), and `flag_error` says it with the flag's name; a field whose range is declared
as `metadata["range"]` (a `foresight.ranges.Range`) is also checked while the flag is read.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from foresight.errors import ConfigError, OptionValueError


@dataclass(frozen=True)
class Option:
    """One flag and the config fields behind it, by owner (a strategy name, a config's role)."""

    flag: str
    dest: str  # the flag's name with underscores: the attribute argparse sets
    kind: type  # int, float, str or bool
    sequence: bool  # a tuple field: the flag takes a comma list
    fields: dict[str, dataclasses.Field]
    defaults: dict[str, Any]  # owner -> default
    presets: dict[str, dict[str, Any]]  # owner -> {preset: the preset's value where it differs}

    @property
    def choices(self) -> tuple[str, ...] | None:
        return next((f.metadata["choices"] for f in self.fields.values() if "choices" in f.metadata), None)

    @property
    def range(self) -> Any:
        return next((f.metadata["range"] for f in self.fields.values() if "range" in f.metadata), None)

    def help(self, name_owners: bool = True) -> str:
        """The help text: each owner's help and default, grouped where they are the same, led by
        the owners' names (with `name_owners`, or where owners differ)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for owner, field in self.fields.items():
            default = _shown(self.defaults[owner])
            presets = "".join(f"; {name} {_shown(value)}" for name, value in self.presets.get(owner, {}).items())
            groups.setdefault((field.metadata["help"], default + presets), []).append(owner)
        named = name_owners or len(groups) > 1
        parts = [(f"{', '.join(owners)}: " if named else "") + f"{text} (default {default})"
                 for (text, default), owners in groups.items()]
        return "; ".join(parts).replace("%", "%%")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise TypeError(f"option {field.name} has no default")


def flag_of(field: dataclasses.Field) -> str:
    return "--" + field.metadata.get("flag", field.name.replace("_", "-"))


def collect_options(configs: Mapping[str, type]) -> dict[str, Option]:
    """The options of `configs` (owner -> config class), one per flag, in field order."""
    found: dict[str, dict[str, Any]] = {}
    for owner, config_class in configs.items():
        hints = typing.get_type_hints(config_class)
        presets = getattr(config_class, "PRESETS", {})
        for field in dataclasses.fields(config_class):
            if "help" not in field.metadata:
                continue
            flag = flag_of(field)
            entry = found.setdefault(flag[2:].replace("-", "_"), {
                "flag": flag, "kind": _kind(hints[field.name]), "sequence": typing.get_origin(hints[field.name]) is tuple,
                "fields": {}, "defaults": {}, "presets": {}})
            entry["fields"][owner] = field
            entry["defaults"][owner] = field_default(field)
            differing = {name: values[field.name] for name, values in presets.items()
                         if field.name in values and values[field.name] != field_default(field)}
            if differing:
                entry["presets"][owner] = differing
    return {dest: Option(dest=dest, **entry) for dest, entry in found.items()}


def _kind(hint: Any) -> type:
    """The scalar type a field's flag parses (a tuple field: its items' type)."""
    if typing.get_origin(hint) is tuple:
        return typing.get_args(hint)[0]
    if hint in (int, float, str, bool):
        return hint
    raise TypeError(f"no flag for a field of type {hint}")


def add_options(parser: argparse._ActionsContainer, options: Mapping[str, Option], *, as_lists: bool = False,
                name_owners: bool = True) -> None:
    """One flag per option, its help naming the owners that take it (`name_owners`). With
    `as_lists`, each takes a comma-separated list of values (a switch stays a switch: it is
    fixed, not varied)."""
    for option in options.values():
        keywords: dict[str, Any] = {"dest": option.dest, "default": None, "help": option.help(name_owners)}
        if option.kind is bool:
            keywords["action"] = argparse.BooleanOptionalAction
        elif as_lists or option.sequence:
            keywords["type"] = comma_list(option)
            keywords["metavar"] = option.dest.upper() + "[,...]"
        else:
            keywords["type"] = value_parser(option)
            if option.choices:
                keywords["choices"] = option.choices
        parser.add_argument(option.flag, **keywords)


def value_parser(option: Option) -> Callable[[str], Any]:
    """Reads one value of the option: its range's parser where it declares one."""
    if option.range is not None:
        return option.range.flag(option.kind)
    return option.kind


def comma_list(option: Option) -> Callable[[str], list[Any]]:
    """Reads "1,2,4" into a list of the option's values. Integer options are counts (at least 1)."""

    def parse(text: str) -> list[Any]:
        if option.kind is int:
            return int_list(text)
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if option.kind is float:
            try:
                return [float(part) for part in parts] or _empty(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got '{text}'") from None
        bad = [part for part in parts if option.choices and part not in option.choices]
        if bad:
            noun = next((f.metadata["noun"] for f in option.fields.values() if "noun" in f.metadata), "value")
            raise argparse.ArgumentTypeError(f"unknown {noun} '{bad[0]}'; choose from: {', '.join(option.choices or ())}")
        return parts or _empty(text)

    return parse


def _empty(text: str) -> list[Any]:
    raise argparse.ArgumentTypeError(f"expected a comma-separated list, got '{text}'")


def int_list(text: str) -> list[int]:
    """argparse type for a comma-separated list of positive integers ("1,2,4")."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected integers of at least 1, got '{text}'")
    return values


def given(args: argparse.Namespace, options: Mapping[str, Option]) -> dict[str, Any]:
    """The options set on the command line, by `dest` (the field name, unless the field renames
    its flag)."""
    return {dest: getattr(args, dest) for dest in options if getattr(args, dest) is not None}


def flag_error(exc: OptionValueError, options: Mapping[str, Option]) -> ConfigError:
    """A config's refusal of a value, in the words of the flag that set it."""
    flag = next((o.flag for o in options.values() if any(f.name == exc.option for f in o.fields.values())), exc.option)
    return ConfigError(f"{flag} must be {exc.allowed}, got {exc.value}")


def config_from_args(owner: str, config_class: type, args: argparse.Namespace, options: Mapping[str, Option],
                     **fixed: Any) -> Any:
    """The config of `owner` built from the flags given (its defaults for the others) and `fixed`."""
    values = {option.fields[owner].name: tuple(value) if option.sequence else value
              for dest, value in given(args, options).items()
              if owner in (option := options[dest]).fields}
    try:
        return config_class(**(values | fixed))
    except OptionValueError as exc:
        raise flag_error(exc, options) from None


def check_ranges(config: Any) -> None:
    """A config's `__post_init__` check of the fields that declare `metadata["range"]`."""
    for field in dataclasses.fields(config):
        if "range" in field.metadata:
            field.metadata["range"].check(config, field.name)


def option(default: Any, help: str, **metadata: Any) -> Any:
    """A config field that is a command-line option: `field(default=..., metadata={"help": ...})`."""
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


def add_seed_flag(parser: argparse._ActionsContainer, seeds: str) -> None:
    """`--seed`, which every command that draws at random takes: an integer in the SEED range,
    default 0; `seeds` says what it seeds in this command's help."""
    from foresight.ranges import SEED

    parser.add_argument("--seed", type=SEED.flag(), default=0, help=f"seed of {seeds} (default 0)")
