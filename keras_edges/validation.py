"""Argument checks for the whole package: one message format, one exception per kind.

Every check raises `TypeError` for an object of the wrong kind and `ValueError` for a
value out of range, with the message
``Invalid value for argument `x`. Expected ... Received: x=...``. Nothing here imports
more than NumPy, so every module (the light ones included) can use it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "check_choice",
    "check_number",
    "check_positive_int",
    "check_scales",
    "describe_failure",
]


def check_choice(name: str, value, choices) -> str:
    """Return `value` if it is one of the strings `choices`, else raise `ValueError`.

    Example:
    >>> check_choice("mode", "reflect", ("reflect", "zeros"))
    'reflect'
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of {list(choices)}. "
            f"Received: {name}={value!r}"
        )
    return value


def _interval(low, high, low_open: bool, high_open: bool, what: str) -> str:
    """`"a number in [0, 1)"`, `"a number >= 0"`, `"a number > 0"` or `"a number (finite)"`."""
    if low is not None and high is not None:
        return f"{what} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{what} {'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{what} {'<' if high_open else '<='} {high}"
    return f"{what} (finite)"


def check_number(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    what: str = "a number",
) -> float:
    """Return `value` as a float if it is a finite real number within the bounds.

    Args:
        name: The argument's name, for the message.
        value: A Python or NumPy real number (not a bool).
        low: Lower bound, or None.
        high: Upper bound, or None.
        low_open: Whether `low` itself is excluded.
        high_open: Whether `high` itself is excluded.
        what: What the number means, for the message (e.g. "a fraction of the image
            diagonal, e.g. 0.0075,").

    Raises:
        TypeError: If `value` is not a real number.
        ValueError: If it is NaN, infinite or out of bounds.

    Example:
    >>> check_number("noise", 0.5, low=0)
    0.5
    >>> check_number("split", 1.0, low=0, high=1, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `split`. Expected a number in [0, 1). Received: split=1.0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (numbers.Real, np.number)
    ):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected a number. "
            f"Received: {name}={value!r}"
        )
    number = float(value)
    if (
        not math.isfinite(number)
        or (low is not None and (number <= low if low_open else number < low))
        or (high is not None and (number >= high if high_open else number > high))
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected "
            f"{_interval(low, high, low_open, high_open, what)}. Received: {name}={value!r}"
        )
    return number


def check_positive_int(name: str, value) -> int:
    """Return `value` as an int if it is a positive integer (Python or NumPy, not a bool).

    Example:
    >>> check_positive_int("epochs", 3)
    3
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected a positive integer. "
            f"Received: {name}={value!r}"
        )
    if value < 1:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a positive integer. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_scales(name: str, scales) -> tuple[float, ...]:
    """Return `scales` as floats if it is a non-empty sequence of factors in [0.1, 4].

    The scale factors of the learned detector's multi-scale testing.

    Example:
    >>> check_scales("scales", (0.5, 1, 1.5))
    (0.5, 1.0, 1.5)
    """
    try:
        values = tuple(float(scale) for scale in scales)
    except (TypeError, ValueError):
        values = ()
    if not values or not all(0.1 <= value <= 4.0 for value in values):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a non-empty sequence of scale "
            f"factors in [0.1, 4], e.g. (0.5, 1, 1.5). Received: {name}={scales!r}"
        )
    return values


def describe_failure(error: Exception) -> str:
    """One line for an input that failed: the message, after the class if unexpected.

    Example:
    >>> describe_failure(ValueError("Cannot read image 'a.png'.\\nmore")), describe_failure(
    ...     KeyError("x"))
    ("Cannot read image 'a.png'.", "KeyError: 'x'")
    """
    kind = (
        ""
        if isinstance(error, (ValueError, TypeError, OSError))
        else f"{type(error).__name__}: "
    )
    return kind + (str(error).strip().splitlines() or [""])[0]
