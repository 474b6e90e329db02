"""Errors with messages a reader can act on.

Every error the package raises for bad input is a :class:`ValueError` (or a subclass) whose
message says what was wrong and what would be accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UnknownNameError(ValueError, LookupError):
    """An id that is not in a catalog. The message names the closest known ids."""

    def __init__(self, kind: str, name: str, known: Iterable[str], aliases: dict[str, str] | None = None):
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


def require_positive_int(name: str, value) -> int:
    """Return ``value`` as an int, or raise a ValueError that says what is allowed."""
    if isinstance(value, bool) or not _is_integral(value):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if int(value) <= 0:
        raise ValueError(f"{name} must be a positive integer (at least 1), got {value!r}")
    return int(value)


def require_fraction(name: str, value: float, allow_zero: bool = False) -> float:
    """A number in (0, 1] (or [0, 1] with ``allow_zero``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}") from None
    lo_ok = v >= 0 if allow_zero else v > 0
    if not (lo_ok and v <= 1):
        raise ValueError(f"{name} must be {'in [0, 1]' if allow_zero else 'in (0, 1]'}, got {value!r}")
    return v


def require_positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not v > 0 or v == float("inf"):
        raise ValueError(f"{name} must be a positive, finite number, got {value!r}")
    return v


def _is_integral(value) -> bool:
    try:
        return float(value) == int(value)
    except (TypeError, ValueError, OverflowError):
        return False
