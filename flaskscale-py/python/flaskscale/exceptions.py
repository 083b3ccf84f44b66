"""The exceptions flaskscale raises. Every one derives from :class:`FlaskscaleError`; those
about bad arguments or data also derive from :class:`ValueError`, so existing ``except
ValueError`` handlers keep working.

>>> import flaskscale as fs
>>> try:
...     fs.SeasonalNaive(season_length=1)
... except fs.InvalidParameterError as e:
...     print(e)
invalid parameter: season length must be >= 2, got 1
"""

from __future__ import annotations

__all__ = [
    "FlaskscaleError",
    "InvalidParameterError",
    "InvalidDataError",
    "NotEnoughDataError",
    "ParseError",
    "FitError",
    "FlaskscaleIOError",
    "FlaskscaleWarning",
    "ConfigError",
]


class FlaskscaleError(Exception):
    """Root of every error flaskscale raises."""


class InvalidParameterError(FlaskscaleError, ValueError):
    """A setting is outside its admissible range; the message names it and its value."""


class InvalidDataError(FlaskscaleError, ValueError):
    """The data are unusable as given (negative, infinite, misaligned); the message says where."""


class NotEnoughDataError(FlaskscaleError, ValueError):
    """The history is too short for what was asked. ``needed`` and ``got`` count the points."""

    needed: int
    got: int


class ParseError(FlaskscaleError, ValueError):
    """Text input (CSV, access log, saved state) did not parse. ``line`` is 1-based (0: none)."""

    line: int


class FitError(FlaskscaleError, RuntimeError):
    """A model could not be fitted to these data; choose another model or clean the data."""


class FlaskscaleIOError(FlaskscaleError, OSError):
    """A file could not be read or written; the message names the path."""


class ConfigError(InvalidParameterError):
    """A setting of the Flask extension is unknown or impossible; the message names the key."""


class FlaskscaleWarning(UserWarning):
    """Something was skipped or adjusted and the caller should know (never silent)."""
