"""A refill lapse: the reservoir runs dry and stays dry for more than 24 h. After the refill the pump
must not go back to the full dose on its own (tolerance falls while the drug is off): it delivers
the 50 μg/day floor with the therapy-interruption alarm until a clinician confirms the dose, and
the confirmation brings the dose back (README "Interruptions"; DOMAIN: over 24 h needs a
clinician's command before full-dose delivery resumes). Judged on the strokes the pump gives."""

import pytest

from itpump_hil import Refused
from itpump_hil.durations import format_duration
from itpump_hil.therapy import delivered

DAY = 86_400_000_000_000
HOUR = DAY // 24
FLOOR_NG_PER_DAY = 50_000
INTERRUPTION_LIMIT = DAY


def days_to_empty(status) -> float:
    nl_per_day = status.delivering_ng_per_day / int(status["concentration_ug_per_ml"]) * 1_000
    return status.reservoir_nl / nl_per_day


def assert_delivers(start, end, ng_per_day, what):
    d = delivered(start, end)
    assert end["late_wakes"] == start["late_wakes"], "the runner was stalled past --max-stroke-lateness: delivery measurement void"
    two_strokes = 2 * d.stroke_ug() * DAY / d.elapsed_ns if d.strokes else 1.0
    assert abs(d.ug_per_day - ng_per_day / 1_000) <= two_strokes, \
        f"{what}: delivered {d.ug_per_day:.3f} μg/day over {format_duration(d.elapsed_ns)}, expected {ng_per_day / 1_000} μg/day"
    return d


@pytest.mark.itpump(time_scale=100_000)
def test_refill_lapse_over_24h_resumes_at_the_floor_until_a_clinician_confirms(pump, therapy_budget, measure):
    s0 = pump.status()
    dose = s0.programmed_ng_per_day
    lapse_days = days_to_empty(s0)
    therapy_budget(pump, f"{int(lapse_days) + 3}d")

    # The reservoir runs dry: the empty alarm, then delivery halts (the bench profile has no empty
    # switch, so the controller halts at its calculated empty; the simulated pump's switch closing
    # first raises the alarm and starts the interruption).
    empty = pump.wait_for_alarm("reservoirEmpty", within=f"{int(lapse_days) + 1}d")
    measure("days_to_empty", round((empty.raised_ns - s0.now_ns) / DAY, 3), "d",
            lower=round(lapse_days * 0.98, 3), upper=round(lapse_days * 1.02, 3))
    dry = pump.wait_until(lambda s: s.delivering_ng_per_day == 0, "1d", what="delivery halted after the empty alarm")
    assert dry.alarm("reservoirEmpty") is not None

    # More than 24 h dry: not a stroke is given.
    lapsed = pump.wait_until(lambda s: s.now_ns >= dry.now_ns + INTERRUPTION_LIMIT + 2 * HOUR, "2d",
                             what="26 h after delivery halted")
    assert delivered(dry, lapsed).strokes == 0, "strokes given from an empty reservoir"

    # The refill (the residual withdrawn is the estimate: nothing).
    pump.refill(withdrawn_ul=lapsed.reservoir_nl // 1_000, added_ul=20_000, ug_per_ml=int(s0["concentration_ug_per_ml"]))
    refilled = pump.wait_until(lambda s: s.strokes > lapsed.strokes, "1h", what="the first stroke after the refill")
    alarm = refilled.alarm("therapyInterruption")
    assert alarm is not None, f"no therapy-interruption alarm after {format_duration(refilled.now_ns - empty.raised_ns)} dry"
    assert alarm["priority"] == "high"
    assert refilled.delivering_ng_per_day == FLOOR_NG_PER_DAY, \
        f"after an interruption over 24 h the pump delivers {refilled.get('delivering')}, not the 50 μg/day floor"

    # The floor holds, on delivered drug, until the clinician confirms; no programming around it.
    with pytest.raises(Refused):
        pump.program(ug_per_day=dose // 1_000)
    at_floor = pump.advance("6h")
    assert_delivers(refilled, at_floor, FLOOR_NG_PER_DAY, "at the floor")
    assert at_floor.alarm("therapyInterruption") is not None

    # The clinician's confirmation brings the dose back; from then on it is delivered.
    reply = pump.confirm_resumption(ug_per_day=dose // 1_000)
    confirmed = pump.status()
    assert confirmed.delivering_ng_per_day == dose
    later = pump.advance("6h")
    assert_delivers(confirmed, later, dose, "after the confirmation")

    # The journal holds the lapse and the confirmation, tied to the command's row.
    events = pump.history(kinds=["alarms", "doses"])["events"]
    raised = [e for e in events if e["kind"] == "alarmRaised" and "therapyInterruption" in e["text"]
              and e["atNanoseconds"] >= empty.raised_ns]
    assert raised, "the therapy interruption is not in the journal"
    confirmations = [e for e in events if e["kind"] == "fullDoseConfirmed"]
    assert [e.get("commandSeq") for e in confirmations] == [reply.journal_seq], confirmations
