"""Exceptions a user can act on.

Every error the library raises on bad input derives from `ForesightError`; the CLI prints its
message on one line and exits non-zero, so each message must say what was wrong and where.
"""


class ForesightError(Exception):
    """Base class of all user-facing errors."""


class ModelLoadError(ForesightError):
    """A model name or path that does not lead to a loadable model."""


class DataError(ForesightError):
    """A data file (questions, records) that cannot be read, with its path and line."""


class ConfigError(ForesightError):
    """An option value or combination that cannot be honoured."""


class RunDirError(ForesightError):
    """A run directory that cannot be written or belongs to another configuration."""


class ServerError(ForesightError):
    """An inference server that cannot be reached, keeps failing, or answers without what we need."""


class OptionValueError(ConfigError, ValueError):
    """A setting outside its allowed range. `option` is the config field, so that the command
    line can name its flag; `allowed` says what the range is."""

    def __init__(self, option: str, allowed: str, value: object) -> None:
        super().__init__(f"{option} must be {allowed}, got {value!r}")
        self.option, self.allowed, self.value = option, allowed, value
