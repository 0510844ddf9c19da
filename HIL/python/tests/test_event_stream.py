"""The event stream as a test reads it: a command and its outcome with its journal row, the alarm it
raises, strokes that add up, and a wait that ends on its timeout when nothing comes."""

import pytest

from itpump_hil import Refused, ReplyTimeout


def events_until(sub, predicate, limit=2000):
    seen = []
    for e in sub:
        seen.append(e)
        if predicate(e) or len(seen) >= limit:
            return seen
    return seen


def test_a_refused_command_and_its_alarm_on_the_stream(pump):
    with pump.subscribe(["command", "alarm"], timeout=10) as sub:
        with pytest.raises(Refused) as refused:
            pump.program(ug_per_day=1300)
        seen = events_until(sub, lambda e: e["event"] == "alarm_raised" and e["alarm"] == "interlockRefusal")
    commands = [e for e in seen if e["event"] == "command"]
    assert commands and commands[0]["ok"] is False and commands[0]["source"] == "control"
    assert commands[0]["journal_seq"] == refused.value.journal_seq
    assert commands[0]["refused"] == refused.value.reason
    alarm = seen[-1]
    assert alarm["event"] == "alarm_raised" and alarm["priority"] == "low"
    assert [e["seq"] for e in seen] == list(range(seen[0]["seq"], seen[0]["seq"] + len(seen))), "seq has gaps"


def test_stroke_batches_add_up_to_the_strokes_given(pump):
    with pump.subscribe(["stroke"], timeout=10) as sub:
        first = next(sub)
        start_total = first["total"] - first["count"]
        counted = first["count"]
        end = pump.advance("6h")
        batch = first
        while batch["total"] < end.strokes:
            batch = next(sub)
            assert batch["event"] in ("strokes", "dropped"), batch
            counted += batch.get("count", 0) if batch["event"] == "strokes" else 0
    assert sub.dropped == 0, "a subscriber that reads must not lose events"
    assert counted == batch["total"] - start_total, "the batches' counts do not add up to the run's total"


def test_a_quiet_stream_times_out_instead_of_hanging(pump):
    with pump.subscribe(["restart"], timeout=0.3) as sub:  # a fresh run never restarts
        with pytest.raises(ReplyTimeout):
            next(sub)
