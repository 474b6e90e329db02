"""Errors with messages a reader can act on.

Every error the package raises for bad input is a :class:`ValueError` (or a subclass) whose
message says what was wrong and what would be accepted.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable


class UnknownNameError(ValueError, LookupError):
    """An id that is not in a catalog. The message names the closest known ids."""

    def __init__(
        self, kind: str, name: str, known: Iterable[str], aliases: dict[str, str] | None = None
    ):
        known = sorted(set(known))
        pool = list(known) + list((aliases or {}).keys())
        close = difflib.get_close_matches(str(name).lower(), pool, n=3, cutoff=0.4)
        # map aliases back to their canonical id, keep order, drop duplicates
        suggestions: list[str] = []
        for c in close:
            canonical = (aliases or {}).get(c, c)
            if canonical not in suggestions:
                suggestions.append(canonical)
        if not suggestions:
            # substring matches catch 'llama 70b' -> llama-3.1-70b style typos
            token = str(name).lower().replace(" ", "-")
            suggestions = [k for k in known if token in k or k in token][:3]
        hint = f"did you mean {', '.join(repr(s) for s in suggestions)}? " if suggestions else ""
        self.kind, self.name, self.suggestions = kind, name, suggestions
        super().__init__(f"unknown {kind} {name!r}: {hint}known {kind}s: {', '.join(known)}")


#: Largest count (chips, batch, sequences, models, samples) any validator accepts unless told
#: otherwise: beyond any system that exists, and small enough that arithmetic stays exact.
MAX_COUNT = 10_000_000
#: Largest magnitude a plain number may have unless the caller gives its own range: products
#: of a few such numbers stay far from float overflow (1.8e308).
MAX_MAGNITUDE = 1e30
#: The readings of estimated numbers every function accepts as ``scenario``.
SCENARIOS = ("base", "optimistic", "pessimistic")


def _is_number_like(value) -> bool:
    """Plain numbers (Python or numpy scalars, 0-d arrays); not bools, strings, containers or None."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, _np_bool()))


def _np_bool():
    import numpy as np

    return np.bool_


def require_count(name: str, value, limit: int = MAX_COUNT, minimum: int = 1) -> int:
    """An integer in ``[minimum, limit]``: ``minimum <= int(value) <= limit``.

    Accepts ints, integral floats (``8.0``) and numpy integers; rejects bools, strings,
    fractions, NaN/inf and anything beyond ``limit`` (so ``2**63`` or ``1e300`` is an error,
    never an overflow)."""
    what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if not _is_number_like(value) or not _is_integral(value):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    v = int(value)
    if v < minimum:
        extra = " (at least 1)" if minimum == 1 else ""
        raise ValueError(f"{name} must be {what}{extra}, got {value!r}")
    if v > limit:
        raise ValueError(f"{name} must be at most {limit:,}, got {_short(value)}")
    return v


def require_positive_int(name: str, value, limit: int = MAX_COUNT) -> int:
    """``value`` as an int in ``[1, limit]`` (see :func:`require_count`)."""
    return require_count(name, value, limit)


def require_number(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite float in a range: ``low <= value <= high`` (``<`` where ``low_open`` /
    ``high_open``); ``None`` bounds default to ``-MAX_MAGNITUDE`` / ``MAX_MAGNITUDE``."""
    lo = -MAX_MAGNITUDE if low is None else low
    hi = MAX_MAGNITUDE if high is None else high
    rng = _describe(lo, hi, low_open, high_open)
    if not _is_number_like(value):
        raise ValueError(f"{name} must be a number {rng}, got {_short(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number {rng}, got {value!r}")
    if (v <= lo if low_open else v < lo) or (v >= hi if high_open else v > hi):
        raise ValueError(f"{name} must be {rng}, got {_short(value)}")
    return v


def _describe(lo: float, hi: float, low_open: bool, high_open: bool) -> str:
    """A range in words: ``positive, at most 10`` / ``non-negative, at most 1e+30`` / ``in [1, 10]``."""
    top = f"below {hi:g}" if high_open else f"at most {hi:g}"
    if lo == 0:
        return f"{'positive' if low_open else 'non-negative'}, {top}"
    return f"in {'(' if low_open else '['}{lo:g}, {hi:g}{')' if high_open else ']'}"


def require_fraction(name: str, value: float, allow_zero: bool = False) -> float:
    """A number in (0, 1] (or [0, 1] with ``allow_zero``)."""
    try:
        return require_number(name, value, 0.0, 1.0, low_open=not allow_zero)
    except ValueError:
        raise ValueError(
            f"{name} must be a number {'in [0, 1]' if allow_zero else 'in (0, 1]'}, "
            f"got {_short(value)}"
        ) from None


def require_positive(name: str, value: float, high: float | None = None) -> float:
    """A finite number ``0 < value <= high`` (default :data:`MAX_MAGNITUDE`)."""
    if not _is_number_like(value) or not math.isfinite(float(value)) or not float(value) > 0:
        raise ValueError(f"{name} must be a positive, finite number, got {value!r}")
    return require_number(name, value, 0.0, high, low_open=True)


def require_array(
    name: str,
    values,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_empty: bool = False,
):
    """A numeric numpy array whose every element is finite and in the range of
    :func:`require_number`; scalars become 0-d arrays. Rejects strings, ragged or object input."""
    import numpy as np

    if isinstance(values, (str, bytes)) or values is None:
        raise ValueError(f"{name} must be a number or an array of numbers, got {values!r}")
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number or an array of numbers, got {_short(values)}"
        ) from None
    if a.dtype == bool or np.asarray(values).dtype == bool:
        raise ValueError(f"{name} must be numbers, not booleans")
    if a.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    lo = -MAX_MAGNITUDE if low is None else low
    hi = MAX_MAGNITUDE if high is None else high
    rng = _describe(lo, hi, low_open, high_open)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite numbers {rng}, got {_short(values)}")
    bad = (a <= lo if low_open else a < lo) | (a >= hi if high_open else a > hi)
    if bad.any():
        raise ValueError(f"{name} must be {rng}, got {_short(float(a[bad].ravel()[0]))}")
    return a


def require_choice(kind: str, value, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``; else :class:`UnknownNameError` with the closest."""
    choices = tuple(choices)
    if isinstance(value, str) and value in choices:
        return value
    raise UnknownNameError(kind, value if isinstance(value, str) else repr(value), choices)


def require_scenario(scenario) -> str:
    """One of :data:`SCENARIOS`."""
    if isinstance(scenario, str) and scenario in SCENARIOS:
        return scenario
    raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")


def require_name(name: str, value) -> str:
    """A non-empty string (an id to look up); lists and numbers are rejected."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be one id as a non-empty string, got {_short(value)}")
    return value


def require_list(name: str, values) -> list:
    """``values`` as a non-empty list: one string or number becomes a one-element list (so a chip
    id is never split into its letters); ``None``, empty lists and mappings are rejected."""
    if isinstance(values, (str, bytes)) or _is_number_like(values):
        return [values]
    if values is None or isinstance(values, dict):
        raise ValueError(
            f"{name} must be a value or a non-empty list of values, got {_short(values)}"
        )
    try:
        items = list(values)
    except TypeError:
        raise ValueError(
            f"{name} must be a value or a non-empty list of values, got {_short(values)}"
        ) from None
    if not items:
        raise ValueError(f"{name} must not be empty")
    return items


def require_frame(name: str, frame, columns: Iterable[str], allow_empty: bool = False):
    """A pandas DataFrame holding ``columns`` (and at least one row unless ``allow_empty``)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        raise ValueError(f"{name} lacks column(s) {', '.join(missing[:4])}{more}")
    if len(frame) == 0 and not allow_empty:
        raise ValueError(f"{name} has no rows")
    return frame


def require_seed(value) -> int:
    """A random seed: an integer in ``[0, 2**63 - 1]``."""
    return require_count("seed", value, limit=2**63 - 1, minimum=0)


def _short(value) -> str:
    """``repr`` of a value, cut to 60 characters (a 300-digit integer stays readable)."""
    text = f"{value:.3g}" if isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_integral(value) -> bool:
    if isinstance(value, numbers.Integral):
        return True
    try:
        return math.isfinite(float(value)) and float(value) == int(value)
    except (TypeError, ValueError, OverflowError):
        return False
