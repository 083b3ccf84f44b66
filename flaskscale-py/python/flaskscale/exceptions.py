"""The exceptions flaskscale raises. Every one derives from :class:`FlaskscaleError`; those
about bad arguments or data also derive from :class:`ValueError`, so existing ``except
ValueError`` handlers keep working.

>>> import flaskscale as fs
>>> try:
...     fs.SeasonalNaive(season_length=1)
... except fs.InvalidParameterError as e:
...     print(e)
invalid parameter: season length must be >= 2 steps, got 1
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


# The classes the native module raises are defined there, once, and raised without a lookup;
# this module is their public home.
from ._flaskscale import (  # noqa: E402
    FitError,
    FlaskscaleError,
    FlaskscaleIOError,
    FlaskscaleWarning,
    InvalidDataError,
    InvalidParameterError,
    NotEnoughDataError,
    ParseError,
)


class ConfigError(InvalidParameterError):
    """A setting of the Flask extension is unknown or impossible; the message names the key."""
