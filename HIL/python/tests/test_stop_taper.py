"""A stop is never an abrupt cessation: the pump tapers, at least 14 days down to the floor, each
24 h at most 20 % below the one before, the first 24 h at the old dose (README "What the interlock
enforces"; DOMAIN "Titration and tapering"). Judged on the drug the pump delivers each day."""

import pytest

from itpump_hil import Refused, instant_ns
from itpump_hil.therapy import delivered, therapy

DAY = 86_400_000_000_000
HOUR = DAY // 24
FLOOR_UG_PER_DAY = 50
MAX_CUT = 0.20  # per 24 h
MIN_TAPER_DAYS = 14
DAYS_MEASURED = 3


def taper_end_ns(status) -> int:
    text = status.taper or ""
    assert ", ends " in text, f"no stop taper in the status: {text!r}"
    return instant_ns(text.rsplit(", ends ", 1)[1])


def test_a_taper_shorter_than_14_days_is_refused(pump):
    before = pump.status()
    with pytest.raises(Refused) as refused:
        pump.stop(taper_days=3)
    assert "14-day minimum" in refused.value.reason and "override" in refused.value.reason
    assert therapy(pump.status()) == therapy(before)


def measure_taper_days(pump, t_stop: int, days: int, measure=None) -> list[tuple[float, float]]:
    """The mean delivered rate (μg/day) in the middle 18 h of each of the first ``days`` days after
    ``t_stop``, with its tolerance (two strokes as a rate over the window). The level changes at the
    day boundaries; a status poll may come later than asked (at 20,000× a 100 ms poll is 33 min), so
    each window keeps 3 h from them."""
    rates = []
    for day in range(days):
        a = pump.wait_until(lambda s: s.now_ns >= t_stop + day * DAY + 3 * HOUR, "2d", what=f"taper day {day}")
        b = pump.wait_until(lambda s: s.now_ns >= t_stop + day * DAY + 21 * HOUR, "1d", what=f"taper day {day}")
        assert b["late_wakes"] == a["late_wakes"], "the runner was stalled past --max-stroke-lateness: delivery measurement void"
        assert b.now_ns < t_stop + (day + 1) * DAY, "the status poll overran the day: run at a lower time scale"
        d = delivered(a, b)
        level = b.delivering_ng_per_day / 1_000
        tolerance = 2 * d.stroke_ug() * DAY / d.elapsed_ns if d.strokes else 0.0
        assert abs(d.ug_per_day - level) <= tolerance + 1e-9, f"day {day}: delivered {d.ug_per_day:.2f} μg/day, status says {level}"
        if measure:
            measure(f"taper_day_{day}_delivered", round(d.ug_per_day, 3), "ug/day", lower=round(FLOOR_UG_PER_DAY - tolerance, 3))
        rates.append((d.ug_per_day, tolerance))
    return rates


def assert_taper_rule(rates: list[tuple[float, float]], dose_ug: float) -> None:
    """The stop-taper rule on measured daily rates: the first day at the old dose, then each day no
    higher than the one before and at most 20 % below it, never below the floor, and stepping down."""
    assert abs(rates[0][0] - dose_ug) <= rates[0][1], "the first 24 h of a taper deliver the dose before the stop"
    for day in range(1, len(rates)):
        (prev, tp), (cur, tc) = rates[day - 1], rates[day]
        assert cur >= FLOOR_UG_PER_DAY - tc, f"day {day}: {cur:.2f} μg/day is below the floor"
        assert cur <= prev + tp + tc, f"day {day}: the taper went up ({prev:.2f} → {cur:.2f} μg/day)"
        assert cur >= (1 - MAX_CUT) * prev - tp - tc, f"day {day}: cut {1 - cur / prev:.1%} in 24 h, more than {MAX_CUT:.0%}"
    assert rates[-1][0] < dose_ug, "after the first day the taper must step down"


# Days measured between day boundaries: a lower time scale keeps the polls well inside each day.
@pytest.mark.itpump(time_scale=20_000)
def test_stop_becomes_a_taper_of_at_least_14_days(pump, measure, therapy_budget):
    therapy_budget(pump, f"{DAYS_MEASURED}d")
    before = pump.status()
    dose_ug = before.programmed_ng_per_day / 1_000
    if not str(before.get("schedule", "")).startswith("continuous"):
        pytest.skip(f"written for a continuous schedule; the pump runs {before.get('schedule')}")

    reply = pump.stop()
    stopped = pump.status()
    t_stop = stopped.now_ns  # the stop was handled at or before this instant
    assert "taper" in reply.accepted, reply.accepted
    measure("taper_length", round((taper_end_ns(stopped) - before.now_ns) / DAY, 3), "d", lower=MIN_TAPER_DAYS)
    assert stopped.delivering_ng_per_day == before.delivering_ng_per_day, "a stop changes nothing for the first 24 h"

    assert_taper_rule(measure_taper_days(pump, t_stop, DAYS_MEASURED, measure), dose_ug)

    # A stop can be taken back: resume holds the level in force, with no more cuts.
    pump.resume()
    resumed = pump.status()
    held = resumed.delivering_ng_per_day
    assert resumed.taper is None and FLOOR_UG_PER_DAY * 1_000 <= held < before.delivering_ng_per_day
    later = pump.advance("1d")
    d = delivered(resumed, later)
    assert later.delivering_ng_per_day == held and later.taper is None
    assert abs(d.ug_per_day - held / 1_000) <= 2 * d.stroke_ug() * DAY / d.elapsed_ns


@pytest.mark.itpump(time_scale=20_000)
def test_the_taper_checks_catch_a_stop_that_breaks_the_rule(pump, therapy_budget):
    """Anti-vacuity: an emergency override may shorten the taper past the rule (a 2-day taper, logged
    as critical); the same measurements and checks must fail on it."""
    therapy_budget(pump, "2d")
    before = pump.status()
    dose_ug = before.programmed_ng_per_day / 1_000
    pump.stop(taper_days=2, override={"reason": "HIL anti-vacuity check", "clinician": "bench"})
    stopped = pump.status()
    assert (taper_end_ns(stopped) - before.now_ns) / DAY < MIN_TAPER_DAYS
    with pytest.raises(AssertionError, match="more than 20%|below the floor"):
        assert_taper_rule(measure_taper_days(pump, stopped.now_ns, 2), dose_ug)
