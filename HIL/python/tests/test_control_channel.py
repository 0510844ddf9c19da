"""The client tells a malformed request, a dead runner and a frozen one apart, and what the pump
does about a runner that was down or frozen: the gap is missed, never caught up in a burst, and
over 24 h it waits at the floor for a clinician."""

import signal
import time

import pytest

from itpump_hil import ConnectionLost, ReplyTimeout, RequestError
from itpump_hil.therapy import therapy

DAY = 86_400_000_000_000
FLOOR_NG_PER_DAY = 50_000


def test_a_malformed_request_is_an_error_and_changes_nothing(pump):
    before = pump.status()
    with pytest.raises(RequestError, match="ug_per_day"):
        pump.command("program", ug_per_day="lots")
    with pytest.raises(RequestError, match="unknown cmd"):
        pump.command("overdose")
    assert therapy(pump.status()) == therapy(before)
    assert {a["alarm"] for a in pump.status().alarms} == {a["alarm"] for a in before.alarms}, "a malformed request is not a refusal"


def test_a_killed_runner_is_connection_lost_and_its_restart_accounts_the_downtime(needs_own_runner, pump):
    runner = needs_own_runner
    before = pump.status()
    runner.kill(signal.SIGKILL)  # a power cut, as far as the process can tell
    runner.proc.wait(10)
    with pytest.raises(ConnectionLost) as lost:
        pump.status()
    assert not isinstance(lost.value, ReplyTimeout) and lost.value.stage == "connect"

    time.sleep(0.2)
    runner.start()  # the same journal: recovered, not started fresh
    after = runner.wait_ready()
    alarm = after.alarm("therapyInterruption")
    assert alarm is not None and "down" in alarm["detail"], after.alarms
    assert after.now_ns > before.now_ns, "the therapy time line continues from the journal"
    restarts = pump.history()["restarts"]
    assert len(restarts) == 1 and restarts[0]["resumedNanoseconds"] > restarts[0]["lastSeenNanoseconds"]


def test_a_frozen_runner_times_out_and_the_stall_is_missed_not_caught_up(needs_own_runner, pump):
    runner = needs_own_runner
    before = pump.status()
    stall_s = 3.0
    if stall_s * before.time_scale * 1e9 <= DAY:
        pytest.skip(f"a {stall_s:g} s stall is under 24 h of therapy at {before.time_scale}×")
    runner.kill(signal.SIGSTOP)
    try:
        frozen = runner.pump(timeout=1.0)
        t = time.monotonic()
        with pytest.raises(ReplyTimeout):
            frozen.wait_for_alarm("occlusion", within="5m")
        assert time.monotonic() - t < 3.0, "a wait on a frozen runner must end on its wall-clock timeout"
        time.sleep(max(0.0, stall_s - (time.monotonic() - t)))
    finally:
        runner.kill(signal.SIGCONT)

    # A freeze that lands in a journal commit leaves that commit's strokes to be given late first
    # (at most one step's), and a status request may be answered in their waits, before the next step
    # accounts the gap: the detection is waited for, within a few seconds of wall-clock time.
    after = pump.wait_until(lambda s: s["late_wakes"] > before["late_wakes"], "7d", wall_timeout=10.0,
                            what="the stall detected as a late wake-up")
    stalled_ns = after.now_ns - before.now_ns
    # Over 24 h of therapy time frozen: missed, not given as a burst afterwards (at most one commit's
    # strokes were under way), and the pump waits at the floor for the clinician.
    burst = after.strokes - before.strokes
    due = before.delivering_ng_per_day * stalled_ns // DAY // 125  # 0.125 μg strokes
    assert burst <= int(after["write_ahead"]["strokes_per_step"]), f"{burst} strokes given after a stall in which {due} were due"
    assert after.alarm("therapyInterruption") is not None
    assert after.delivering_ng_per_day == FLOOR_NG_PER_DAY
    pump.confirm_resumption(ug_per_day=before.programmed_ng_per_day // 1_000)
    assert pump.status().delivering_ng_per_day == before.programmed_ng_per_day
