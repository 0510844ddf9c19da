"""Durations and instants as itpump's files and replies write them.

Durations use the files' syntax (``QuantitySyntax.duration`` in ``Sources/ITPumpFiles``, the one
grammar of every file and of the control channel): a number with one unit ``d``, ``h``, ``m``, ``s``,
``ms``, ``us`` (``µs``) or ``ns``, decimals allowed when exact to the nanosecond (``90d``, ``1.5h``,
``250ms``, ``1.9us``), or whole numbers with units in decreasing order, each at most once (``2d12h``,
``1ms500us``), or ``0``. Instants in replies are the
controller's clock form, ``<days>d+HH:MM:SS[.mmm]`` from the therapy time line's origin.

Everything is integer nanoseconds, as in the firmware: no float ever stands for a therapy time.
"""

from __future__ import annotations

import datetime
import re

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S
NS_PER_HOUR = 60 * NS_PER_MIN
NS_PER_DAY = 24 * NS_PER_HOUR

# Longer names before their prefixes; (unit, nanoseconds, order: larger units first).
_UNITS = (("d", NS_PER_DAY, 0), ("h", NS_PER_HOUR, 1), ("ms", NS_PER_MS, 4), ("m", NS_PER_MIN, 2),
          ("s", NS_PER_S, 3), ("us", 1_000, 5), ("\u00b5s", 1_000, 5), ("\u03bcs", 1_000, 5), ("ns", 1, 6))
_SYNTAX = ("a number and a unit d, h, m, s, ms, us or ns (`90d`, `250ms`, `1.9us`), "
           "or whole numbers with units in decreasing order (`2d12h`), or 0")
_INSTANT = re.compile(r"^(-?)(\d+)d\+(\d\d):(\d\d):(\d\d)(?:\.(\d{3}))?$")


class DurationError(ValueError):
    """A duration or instant text that is not in the files' syntax; the message says what is allowed."""


def duration_ns(value: str | int | datetime.timedelta) -> int:
    """Nanoseconds of ``value``: a duration text (``"2d12h"``), an int (already nanoseconds) or a
    ``timedelta`` (whole microseconds, as it holds them).

    Raises ``DurationError`` for text outside the files' syntax, with the syntax in the message.
    """
    if isinstance(value, bool):
        raise DurationError(f"duration {value!r} is not a duration; give {_SYNTAX}")
    if isinstance(value, int):
        if value < 0:
            raise DurationError(f"duration {value} ns is negative")
        return value
    if isinstance(value, datetime.timedelta):
        us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        if us < 0:
            raise DurationError(f"duration {value} is negative")
        return us * 1_000
    if not isinstance(value, str):
        raise DurationError(f"duration {value!r} is not text; give {_SYNTAX}")
    text = value.strip(" ")
    if text == "0":
        return 0
    if not text:
        raise DurationError(f"duration is empty; give {_SYNTAX}")
    total, rest, last, parts = 0, text, -1, 0
    while rest:
        number = re.match(r"([0-9]*)(?:\.([0-9]*))?", rest)
        digits, fraction = number.group(1), number.group(2)
        if not digits or len(digits) > 20 or fraction == "":
            raise DurationError(f"duration `{value}` is not a number followed by a unit; give {_SYNTAX}")
        rest = rest[number.end():]
        unit = next(((u, size, order) for u, size, order in _UNITS if rest.startswith(u)), None)
        if unit is None:
            raise DurationError(f"duration `{value}` has a number without a unit d, h, m, s, ms, us or ns; give {_SYNTAX}")
        name, size, order = unit
        rest = rest[len(name):]
        parts += 1
        if order <= last:
            raise DurationError(f"duration `{value}` repeats a unit or has them out of order; give {_SYNTAX}")
        last = order
        if fraction is not None and (parts > 1 or rest):
            raise DurationError(f"duration `{value}` has decimals in a duration of several units; write whole "
                                f"numbers (`1h30m`) or one unit (`1.5h`)")
        amount = int(digits) * size
        if fraction:
            place = size
            for digit in fraction:
                if place % 10:
                    raise DurationError(f"duration `{value}` is finer than 1 ns; it would have to be rounded")
                place //= 10
                amount += int(digit) * place
        total += amount
        if total >= 2**63:
            raise DurationError(f"duration `{value}` is too long")
    return total


def format_duration(ns: int) -> str:
    """The compact form of ``ns`` (``2d12h``, ``12m``, ``1s250ms``; ``0s`` for zero), exact to the
    millisecond and with ``ns`` beyond it, as ``TimeSpan.description`` prints it."""
    if ns == 0:
        return "0s"
    sign, rest = ("-", -ns) if ns < 0 else ("", ns)
    parts = []
    for unit, size in (("d", NS_PER_DAY), ("h", NS_PER_HOUR), ("m", NS_PER_MIN), ("s", NS_PER_S)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    if rest:
        parts.append(f"{rest // NS_PER_MS}ms" if rest % NS_PER_MS == 0 else f"{rest}ns")
    return sign + "".join(parts)


def instant_ns(text: str) -> int:
    """Nanoseconds from the origin of an instant in the controller's clock form (``3d+08:12:00``,
    ``0d+00:00:18.500``), as ``status`` prints ``now`` and each alarm's ``raised``. Millisecond
    resolution: that is what the form carries (``now_ns`` is exact where a reply has it)."""
    m = _INSTANT.match(text.strip())
    if not m:
        raise DurationError(f"instant `{text}` is not in the form <days>d+HH:MM:SS[.mmm]")
    sign, d, h, mi, s, ms = m.groups()
    ns = int(d) * NS_PER_DAY + int(h) * NS_PER_HOUR + int(mi) * NS_PER_MIN + int(s) * NS_PER_S + int(ms or 0) * NS_PER_MS
    return -ns if sign else ns
