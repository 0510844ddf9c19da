"""Motor stall: the alarm from the missing stroke feedback, and the drug it cost is missed, never
caught up in a burst once the motor moves again (README "Interruptions"; DOMAIN "Motor stall:
detect from actuator feedback, critical alarm"). Judged on the strokes the simulated motor moved."""

import pytest

from itpump_hil import RequestError
from itpump_hil.durations import NS_PER_HOUR, NS_PER_MIN

STALL = "30m"
# Our bench limit for the time to the stall alarm (the simulated sensor trips after 3 commanded
# strokes, under a minute at 600 μg/day). At 1,000× a 100 ms wall-clock hiccup of a loaded host is
# 1.7 min of therapy, well inside it (at 5,000× it was 8 min, and the measurement flaked).
LATENCY_LIMIT_MIN = 10


@pytest.mark.itpump(time_scale=1_000)
def test_motor_stall_alarms_and_the_missed_drug_is_not_caught_up(pump, inject_fault, measure):
    s0 = pump.status()
    if "sim_truth" not in s0:
        pytest.skip("judged on the simulated pump's truth (strokes moved): a --backend sim runner")
    fault = inject_fault("motor_stall", STALL)
    seen = pump.wait_for_alarm("motorStall", within="30m", since_ns=fault.at_ns)
    measure("motor_stall_alarm_latency", round((seen.raised_ns - fault.at_ns) / NS_PER_MIN, 3), "min", lower=0, upper=LATENCY_LIMIT_MIN)
    assert seen.alarm.get("priority") == "high"

    # While stalled the motor moves nothing, whatever is commanded.
    mid = pump.wait_until(lambda s: s.now_ns >= fault.at_ns + 20 * NS_PER_MIN, "1h", what="20 min into the stall")
    assert mid["sim_truth"]["strokes_moved"] == seen.status["sim_truth"]["strokes_moved"], "strokes moved while the motor was stalled"

    # Once it moves again: the programmed rate, not the rate plus the missed strokes.
    going = pump.wait_until(lambda s: s.now_ns >= fault.at_ns + 40 * NS_PER_MIN, "1h",
                            what="the motor moving again after the stall")
    later = pump.wait_until(lambda s: s.now_ns >= going.now_ns + NS_PER_HOUR, "2h", what="1 h after the stall")
    moved = later["sim_truth"]["strokes_moved"] - going["sim_truth"]["strokes_moved"]
    stroke_ug = 0.25 * int(s0["concentration_ug_per_ml"]) / 1_000  # 0.25 μL strokes (bench profile)
    due = s0.delivering_ng_per_day / 1_000 * (later.now_ns - going.now_ns) / (24 * NS_PER_HOUR) / stroke_ug
    measure("strokes_in_1h_after_stall", moved, "strokes", lower=int(due) - 1, upper=int(due) + 2)
    assert later["late_wakes"] == going["late_wakes"], "the runner was stalled past --max-stroke-lateness: measurement void"


def test_an_unknown_fault_is_an_error_and_injects_nothing(pump):
    with pytest.raises(RequestError, match="fault"):
        pump.inject("gremlins", for_="1h")
    assert pump.status().get("injected_faults", []) == []
