"""The client reads durations and instants exactly as the files and the replies write them."""

import datetime

import pytest

from itpump_hil import DurationError, duration_ns, format_duration, instant_ns

H = 3_600_000_000_000
D = 24 * H


@pytest.mark.parametrize("text, ns", [
    ("90d", 90 * D), ("36h", 36 * H), ("15m", 15 * 60 * 10**9), ("2d12h", 2 * D + 12 * H),
    ("30s", 30 * 10**9), ("250ms", 250 * 10**6), ("0", 0), ("1d1h1m1s1ms", D + H + 60 * 10**9 + 10**9 + 10**6),
    (" 5m ", 5 * 60 * 10**9), ("1.5h", 90 * 60 * 10**9), ("1.9us", 1_900), ("7ns", 7), ("1ms500us", 1_500_000),
    ("2\u00b5s", 2_000), ("0.000000001s", 1), ("9223372036854775807ns", 2**63 - 1),
])
def test_duration_in_the_files_syntax(text, ns):
    assert duration_ns(text) == ns


@pytest.mark.parametrize("text", ["", "5", "12h2d", "1h1h", "5 m", "-1h", "1w", "h", "1hm", "1.h", ".5h", "1ms1s"])
def test_duration_outside_the_syntax_is_refused_with_the_syntax(text):
    with pytest.raises(DurationError, match="unit d, h, m, s, ms, us or ns|empty"):
        duration_ns(text)


@pytest.mark.parametrize("text, why", [("1h30.5m", "decimals in a duration of several units"),
                                       ("0.5ns", "finer than 1 ns"), ("1.0000000001s", "finer than 1 ns"),
                                       ("9223372036854775808ns", "too long"), ("107000d", "too long")])
def test_duration_the_firmware_would_refuse_is_refused_with_the_reason(text, why):
    with pytest.raises(DurationError, match=why):
        duration_ns(text)


def test_duration_from_numbers_and_timedelta():
    assert duration_ns(5) == 5
    assert duration_ns(datetime.timedelta(hours=2, microseconds=3)) == 2 * H + 3_000
    with pytest.raises(DurationError):
        duration_ns(-1)
    with pytest.raises(DurationError):
        duration_ns(True)


@pytest.mark.parametrize("ns, text", [(0, "0s"), (2 * D + 12 * H, "2d12h"), (12 * 60 * 10**9, "12m"),
                                      (10**9 + 250 * 10**6, "1s250ms"), (7, "7ns"), (-H, "-1h")])
def test_format_duration_round_trips(ns, text):
    assert format_duration(ns) == text
    if ns >= 0 and not text.endswith("ns"):
        assert duration_ns(text) == ns


@pytest.mark.parametrize("text, ns", [("0d+00:00:00", 0), ("3d+08:12:00", 3 * D + 8 * H + 12 * 60 * 10**9),
                                      ("0d+00:00:18.500", 18_500_000_000), ("-1d+00:00:00", -D)])
def test_instant_in_the_controllers_clock_form(text, ns):
    assert instant_ns(text) == ns


def test_instant_in_another_form_is_refused():
    with pytest.raises(DurationError, match="<days>d"):
        instant_ns("3d08:12")
