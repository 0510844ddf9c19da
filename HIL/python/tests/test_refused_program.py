"""A refused over-limit program changes nothing: not the therapy the status shows, not the drug the
pump delivers afterwards. The refusal is journaled with the rule it broke."""

import pytest

from itpump_hil import Refused, instant_ns
from itpump_hil.therapy import delivered, therapy

UG = 1_000  # ng per μg
DAY = 86_400_000_000_000


def running_since_ns(status) -> int:
    phase = status.phase
    assert phase.startswith("running since "), f"therapy is not running: {phase}"
    return instant_ns(phase.removeprefix("running since "))


def assert_refusal_changed_nothing(before, after):
    assert therapy(after) == therapy(before)
    new_alarms = {a["alarm"] for a in after.alarms} - {a["alarm"] for a in before.alarms}
    assert new_alarms <= {"interlockRefusal"}, f"a refusal raised {new_alarms}"


def test_program_above_1200_ug_per_day_is_refused_and_changes_nothing(pump, measure):
    before = pump.status()
    dose = before.programmed_ng_per_day
    if not str(before.get("schedule", "")).startswith("continuous"):
        pytest.skip(f"written for a continuous schedule; the pump runs {before.get('schedule')}")
    assert dose is not None and before.delivering_ng_per_day == dose

    with pytest.raises(Refused) as refused:
        pump.program(ug_per_day=1300)
    assert "1200 μg/day" in refused.value.reason and "no override" in refused.value.reason
    assert_refusal_changed_nothing(before, pump.status())

    # Delivered drug, not only the status: over the next 6 h the pump gives the old dose, to the
    # stroke (the mean of 6 h of strokes at the old rate is within one stroke of it).
    start = pump.status()
    end = pump.advance("6h")
    d = delivered(start, end)
    assert end["late_wakes"] == start["late_wakes"], "the runner was stalled past --max-stroke-lateness: delivery measurement void"
    expected_ug = dose / UG * d.elapsed_ns / DAY
    two_strokes_ug = 2 * d.stroke_ug()
    measure("delivered_in_6h_after_refusal", d.drug_pg / 1e6, "ug",
            lower=expected_ug - two_strokes_ug, upper=expected_ug + two_strokes_ug)

    # The refusal is in the journal, tied to the command's row.
    events = pump.history(kinds=["refusals"])["events"]
    refusals = [e for e in events if e.get("commandSeq") == refused.value.journal_seq]
    assert refusals, f"no refusal event for journal_seq {refused.value.journal_seq} in {events}"
    assert "1300" in refusals[0]["text"]


def test_increase_above_the_titration_limit_is_refused_and_changes_nothing(pump):
    s = pump.status()
    dose_ug = s.programmed_ng_per_day // UG
    # None in the first 24 h of therapy.
    first_day = pump.status()
    with pytest.raises(Refused, match="first 24 h"):
        pump.program(ug_per_day=dose_ug + dose_ug // 10)
    assert_refusal_changed_nothing(first_day, pump.status())

    # After 24 h, at most +30 % (spinal) once per 24 h: 31 % is refused, 30 % is the nearest allowed.
    start = running_since_ns(s)
    pump.wait_until(lambda st: st.now_ns >= start + DAY + DAY // 24, "2d", what="25 h of therapy")
    before = pump.status()
    too_much = dose_ug * 131 // 100
    with pytest.raises(Refused) as refused:
        pump.program(ug_per_day=too_much)
    assert "30 %" in refused.value.reason, refused.value.reason
    assert f"{dose_ug * 130 // 100} μg/day" in refused.value.reason, "the refusal names the nearest allowed dose"
    assert_refusal_changed_nothing(before, pump.status())

    # The limit is the rule, not a blanket refusal: the nearest allowed dose is accepted.
    reply = pump.program(ug_per_day=dose_ug * 130 // 100)
    assert reply.journal_seq is not None and reply.journal_seq > refused.value.journal_seq
    accepted = pump.status()
    assert accepted.delivering_ng_per_day == dose_ug * 130 // 100 * UG
    assert therapy(accepted) != therapy(before), "the comparison that found the refusals changed nothing must see a change"
