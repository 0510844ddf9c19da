"""A client for the control channel of ``itpump run`` (standard library only).

The channel is a Unix socket speaking one JSON object per line (README "Bench rig runner";
``Sources/PumpRuntime/Control/ControlRequest.swift`` lists every request). Each request here opens a
connection, sends one line and reads one reply line, as ``itpump ctl`` does; ``subscribe`` keeps
its connection open and reads event lines.

Three outcomes are told apart by type, so a test can never mistake one for another:

- ``Refused``: the runner understood the command and the pump's interlock refused it (``refused``
  in the reply, therapy unchanged, the refusal journaled);
- ``RequestError``: the runner answered ``"ok": false`` with an ``error`` (a malformed request, a
  field out of range, "not applied" during a journal outage, a full channel);
- ``ConnectionLost``: no answer at all (no runner on the socket, the connection closed before the
  reply, or no reply within the timeout: ``ReplyTimeout``).

Times: the pump's therapy time line (``status``'s ``now_ns``) runs ``time_scale`` times faster than
the wall clock. Waits (``wait_for_alarm``, ``wait_until``, ``advance``) take therapy durations in the
files' syntax (``"15m"``, ``"2d12h"``) and are judged on the runner's own ``now_ns``; each also has a
wall-clock cap so a runner that stopped advancing (dead, SIGSTOPped, wedged) fails the wait instead
of hanging the test.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Callable

from .durations import NS_PER_S, duration_ns, format_duration, instant_ns


class ItpumpError(Exception):
    """Base of every error this client raises."""


class ConnectionLost(ItpumpError):
    """No reply: nobody listens on the socket, the connection closed before the reply line, or the
    reply did not come in time. ``stage`` is ``connect``, ``send``, ``reply`` or ``timeout``."""

    def __init__(self, message: str, *, socket_path: str, stage: str):
        super().__init__(f"{message} (control socket {socket_path})")
        self.socket_path = socket_path
        self.stage = stage


class ReplyTimeout(ConnectionLost):
    """Connected, but no reply line within the timeout: the runner is stopped or wedged."""


class RequestError(ItpumpError):
    """The runner answered ``"ok": false`` with an ``error``: the request was not applied."""

    def __init__(self, reply: "Reply", request: dict):
        super().__init__(f"{request.get('cmd')}: {reply.get('error')}")
        self.reply = reply
        self.request = request
        self.message = reply.get("error", "")


class Refused(ItpumpError):
    """The interlock refused the command: ``reason`` names the rule, the value and the nearest
    allowed value. The runner journaled the refusal (``journal_seq``) and changed no therapy."""

    def __init__(self, reply: "Reply", request: dict):
        super().__init__(f"{request.get('cmd')} refused: {reply.get('refused')}")
        self.reply = reply
        self.request = request
        self.reason = reply.get("refused", "")
        self.journal_seq = reply.get("journal_seq")


class WaitTimeout(ItpumpError, AssertionError):
    """A wait ran out: the therapy-time limit passed (``therapy_elapsed_ns``) or the wall-clock cap
    did (the runner stopped advancing). An ``AssertionError``, so pytest reports a failed check."""

    def __init__(self, message: str, *, therapy_elapsed_ns: int, wall_elapsed_s: float, last_status: "Status | None"):
        super().__init__(message)
        self.therapy_elapsed_ns = therapy_elapsed_ns
        self.wall_elapsed_s = wall_elapsed_s
        self.last_status = last_status


class Reply(dict):
    """One reply line, decoded. A ``dict`` with shortcuts for the fields every reply may carry."""

    @property
    def ok(self) -> bool:
        return self.get("ok") is True

    @property
    def accepted(self) -> str | None:
        """The acceptance text of a command the interlock accepted."""
        return self.get("accepted")

    @property
    def refused(self) -> str | None:
        return self.get("refused")

    @property
    def error(self) -> str | None:
        return self.get("error")

    @property
    def journal_seq(self) -> int | None:
        """The command's row in the journal, committed before the reply (journaled runs only)."""
        return self.get("journal_seq")

    @property
    def protocol(self) -> int | None:
        """The protocol version the runner speaks, where it says so."""
        return self.get("protocol")


class Status(dict):
    """The ``status`` object of a ``status`` reply (``Runner.status()``): exact integers with their
    unit in the key, plus readable text. Shortcuts for what tests read most."""

    @property
    def now_ns(self) -> int:
        """The controller's therapy time, ns from the run's origin."""
        return int(self["now_ns"])

    @property
    def time_scale(self) -> int:
        """Therapy seconds per wall second."""
        return int(self["time_scale"])

    @property
    def phase(self) -> str:
        return self["phase"]

    @property
    def delivering_ng_per_day(self) -> int:
        """The dose being delivered now (ng/day); 0 while delivery is held."""
        return int(self["delivering_ng_per_day"])

    @property
    def programmed_ng_per_day(self) -> int | None:
        v = self.get("programmed_ng_per_day")
        return None if v is None else int(v)

    @property
    def strokes(self) -> int:
        """Strokes the pump performed in this run."""
        return int(self["strokes"])

    @property
    def reservoir_nl(self) -> int:
        """The controller's (conservative) estimate of the reservoir, nL."""
        return int(self["reservoir_nl"])

    @property
    def alarms(self) -> list[dict]:
        return list(self.get("alarms", []))

    def alarm(self, name: str) -> dict | None:
        """The active alarm ``name`` (e.g. ``"occlusion"``), or None."""
        return next((a for a in self.alarms if a.get("alarm") == name), None)

    @property
    def bring_up(self) -> str | None:
        return self.get("bring_up")

    @property
    def taper(self) -> str | None:
        return self.get("taper")


@dataclass(frozen=True)
class AlarmSeen:
    """An alarm found active by a wait: when the controller raised it (therapy ns) and when the wait
    started and saw it, with the status that showed it."""

    name: str
    raised_ns: int
    wait_started_ns: int
    seen_ns: int
    wall_s: float
    status: Status
    alarm: dict
    via: str = "status"  # "events": seen on the event stream; "status": in a polled status

    @property
    def latency_ns(self) -> int:
        """Therapy time from the start of the wait to the alarm's raise."""
        return self.raised_ns - self.wait_started_ns


def alarm_raised_ns(alarm: dict) -> int:
    """When the controller raised an alarm of ``status``: ``raised_ns`` (exact, protocol 1) or its
    ``raised`` text (to the millisecond)."""
    if "raised_ns" in alarm:
        return int(alarm["raised_ns"])
    return instant_ns(alarm["raised"])


def _json_line(obj: dict) -> bytes:
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


class Subscription:
    """An event stream (``subscribe``): the runner's events as JSON objects, in order, each with
    ``event`` (its name: ``alarm_raised``, ``alarm_acknowledged``, ``alarm_cleared``, ``command``,
    ``phase``, ``dose``, ``strokes``, ``outage``, ``restart``, ``dropped``, ``run_ended``), ``at`` /
    ``at_ns`` (therapy time) and ``seq`` (per connection). An iterator; each ``next`` waits at most
    ``timeout`` wall seconds (``ReplyTimeout``); the stream ends (``StopIteration``) after
    ``run_ended``; a connection lost otherwise is ``ConnectionLost``. Close it (or use ``with``)."""

    def __init__(self, sock: socket.socket, reply: Reply, socket_path: str, timeout: float):
        self._sock = sock
        self._buffer = bytearray()
        self._ended = False
        self.reply = reply
        self.socket_path = socket_path
        self.timeout = timeout
        self.dropped = 0

    def __iter__(self) -> "Subscription":
        return self

    def __next__(self) -> dict:
        e = self.next()
        if e is None:
            raise StopIteration
        return e

    def next(self, timeout: float | None = None) -> dict | None:
        """The next event, waiting at most ``timeout`` wall seconds (default the subscription's);
        None once the stream has ended (after ``run_ended``)."""
        if self._ended:
            return None
        t = self.timeout if timeout is None else timeout
        self._sock.settimeout(t)
        line = Pump._read_line(self._sock, self._buffer, "event", self.socket_path, t)
        try:
            e = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ItpumpError(f"an event line is not JSON ({err}): {line[:200]!r}") from None
        if e.get("event") == "dropped":
            self.dropped += int(e.get("count", 0))
        if e.get("event") == "run_ended":
            self._ended = True
        return e

    def poll(self) -> list[dict]:
        """Every event already received or arriving without waiting (possibly none)."""
        out = []
        while not self._ended:
            try:
                e = self.next(timeout=0.001)
            except ReplyTimeout:
                break
            if e is not None:
                out.append(e)
        return out

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Pump:
    """A pump behind a runner's control socket.

    ``socket_path``: the runner's control socket. ``timeout``: wall seconds to wait for one reply
    (the runner answers between steps; on a loaded machine give it a few seconds). ``journal`` and
    ``binary``: the runner's journal and an ``itpump`` binary, for ``history()`` (read with
    ``itpump history --journal … --format json``, which reads alongside a running writer).
    """

    def __init__(self, socket_path: str, *, timeout: float = 10.0, journal: str | None = None,
                 binary: str | None = None, poll_interval: float = 0.02):
        self.socket_path = socket_path
        self.timeout = timeout
        self.journal = journal
        self.binary = binary
        self.poll_interval = poll_interval

    # -- the wire ---------------------------------------------------------------------------

    def _connect(self, timeout: float) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.socket_path)
        except socket.timeout:
            s.close()
            raise ReplyTimeout(f"no connection within {timeout:g} s", socket_path=self.socket_path, stage="timeout") from None
        except OSError as e:
            s.close()
            raise ConnectionLost(f"cannot connect: {e.strerror or e}", socket_path=self.socket_path, stage="connect") from None
        return s

    @staticmethod
    def _read_line(s: socket.socket, buffer: bytearray, what: str, socket_path: str, timeout: float) -> bytes:
        while b"\n" not in buffer:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise ReplyTimeout(f"no {what} within {timeout:g} s", socket_path=socket_path, stage="timeout") from None
            except OSError as e:
                raise ConnectionLost(f"connection lost waiting for the {what}: {e.strerror or e}", socket_path=socket_path, stage="reply") from None
            if not chunk:
                if buffer:  # a last line without its newline
                    line = bytes(buffer)
                    buffer.clear()
                    return line
                raise ConnectionLost(f"the runner closed the connection before the {what}", socket_path=socket_path, stage="reply")
            buffer.extend(chunk)
        i = buffer.index(b"\n")
        line = bytes(buffer[:i])
        del buffer[:i + 1]
        return line

    def _decode(self, line: bytes) -> Reply:
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ItpumpError(f"the runner's reply is not JSON ({e}): {line[:200]!r}") from None
        if not isinstance(obj, dict):
            raise ItpumpError(f"the runner's reply is not a JSON object: {line[:200]!r}")
        return Reply(obj)

    def request(self, obj: dict, *, timeout: float | None = None) -> Reply:
        """Sends one request object and returns the reply as it came, whatever its outcome. Raises
        only ``ConnectionLost`` (no reply) or ``ItpumpError`` (a reply that is not a JSON object)."""
        t = self.timeout if timeout is None else timeout
        s = self._connect(t)
        try:
            try:
                s.sendall(_json_line(obj))
            except socket.timeout:
                raise ReplyTimeout(f"could not send within {t:g} s", socket_path=self.socket_path, stage="timeout") from None
            except OSError as e:
                # The runner may have answered (e.g. "too many control connections") and closed.
                buf = bytearray()
                try:
                    return self._decode(self._read_line(s, buf, "reply", self.socket_path, t))
                except ConnectionLost:
                    raise ConnectionLost(f"connection lost sending the request: {e.strerror or e}", socket_path=self.socket_path, stage="send") from None
            return self._decode(self._read_line(s, bytearray(), "reply", self.socket_path, t))
        finally:
            s.close()

    def command(self, cmd: str, **fields: Any) -> Reply:
        """Sends ``{"cmd": cmd, **fields}``. Returns the reply of an accepted command; raises
        ``Refused`` (the interlock said no), ``RequestError`` (not applied) or ``ConnectionLost``.
        A field named with a trailing underscore (``for_``) is sent without it."""
        req = {"cmd": cmd}
        for k, v in fields.items():
            if v is not None:
                req[k[:-1] if k.endswith("_") else k] = v
        reply = self.request(req)
        if reply.get("refused") is not None:
            raise Refused(reply, req)
        if not reply.ok:
            raise RequestError(reply, req)
        return reply

    # -- requests ---------------------------------------------------------------------------

    def status(self) -> Status:
        """The runner's ``status``: therapy, reservoir, alarms, strokes, timing."""
        reply = self.command("status")
        return Status(reply["status"])

    def program(self, ug_per_day: int | None = None, *, steps: list[dict] | None = None) -> Reply:
        """Programs a continuous dose (μg/day, a whole number) or a flex schedule
        (``steps=[{"start": "HH:MM", "ug_per_day": N}, …]``). Through the interlock."""
        return self.command("program", ug_per_day=ug_per_day, steps=steps)

    def stop(self, taper_days: int | None = None, *, override: dict | None = None) -> Reply:
        """Stops therapy: the runner tapers (at least 14 days down to the floor); a shorter taper
        needs ``override={"reason": …, "clinician": …}``."""
        return self.command("stop", taper_days=taper_days, override=override)

    def resume(self) -> Reply:
        return self.command("resume")

    def confirm_resumption(self, ug_per_day: int | None = None, *, steps: list[dict] | None = None) -> Reply:
        """The clinician's confirmation of the dose after an interruption over 24 h."""
        return self.command("confirm_resumption", ug_per_day=ug_per_day, steps=steps)

    def refill(self, *, withdrawn_ul: int, added_ul: int, ug_per_ml: int, confirm_concentration_change: bool | None = None) -> Reply:
        """A refill entry (on ``--backend sim`` also the physical act on the simulated reservoir)."""
        return self.command("refill", withdrawn_ul=withdrawn_ul, added_ul=added_ul, ug_per_ml=ug_per_ml,
                            confirm_concentration_change=confirm_concentration_change)

    def acknowledge(self, alarm: str) -> Reply:
        return self.command("acknowledge", alarm=alarm)

    def inject(self, fault: str, for_: str | int | None = None, *, percent: int | None = None) -> Reply:
        """Injects a fault into the simulated pump (``--backend sim``): ``occlusion``,
        ``motor_stall``, ``empty_switch``, ``leak``, ``calibration_bias`` (the last two with
        ``percent``); for a therapy duration (``for_="2h"``, the files' syntax) or until
        ``clear_fault``. A GPIO runner refuses it (faults there come from the rig)."""
        if isinstance(for_, int):
            for_ = format_duration(for_)
        return self.command("inject", fault=fault, for_=for_, percent=percent)

    def clear_fault(self, fault: str) -> Reply:
        """Ends the injected fault ``fault``."""
        return self.command("clear_fault", fault=fault)

    def set_refill_date(self, at: str | None) -> Reply:
        """The clinician's refill date, ``at`` from now (the files' duration syntax, ``"10d"``), or
        None to clear it. (Runners before protocol 1 took ``in_hours`` only.)"""
        return self.command("set_refill_date", at=at) if at is not None else self.request_ok({"cmd": "set_refill_date", "at": None})

    def request_ok(self, req: dict) -> Reply:
        """Like ``command`` for a request object given whole (a field may be JSON null)."""
        reply = self.request(req)
        if reply.get("refused") is not None:
            raise Refused(reply, req)
        if not reply.ok:
            raise RequestError(reply, req)
        return reply

    def subscribe(self, events: list[str] | None = None, *, timeout: float | None = None) -> Subscription:
        """Turns a new connection into an event stream of the categories ``events`` (``alarm``,
        ``command``, ``phase``, ``dose``, ``stroke``, ``outage``, ``restart``; None: all). Raises
        ``RequestError`` when the runner refuses it (e.g. a runner without event streams)."""
        t = self.timeout if timeout is None else timeout
        req: dict = {"cmd": "subscribe"}
        if events is not None:
            req["events"] = list(events)
        s = self._connect(t)
        try:
            s.sendall(_json_line(req))
            buf = bytearray()
            reply = self._decode(self._read_line(s, buf, "reply", self.socket_path, t))
        except OSError as e:
            s.close()
            raise ConnectionLost(f"connection lost subscribing: {e}", socket_path=self.socket_path, stage="send") from None
        except BaseException:
            s.close()
            raise
        if not reply.ok:
            s.close()
            raise RequestError(reply, req)
        sub = Subscription(s, reply, self.socket_path, t)
        sub._buffer = buf
        return sub

    # -- waits in therapy time --------------------------------------------------------------

    def _wall_cap(self, therapy_ns: int, scale: int, wall_timeout: float | None) -> float:
        if wall_timeout is not None:
            return wall_timeout
        # Twice the wall time the therapy span takes at the run's scale, plus a margin for start-up
        # and a loaded machine: a runner that advances at all gets there; one that does not, fails.
        return 2.0 * therapy_ns / NS_PER_S / max(scale, 1) + 10.0

    def wait_until(self, predicate: Callable[[Status], Any], within: str | int, *, what: str = "the condition",
                   wall_timeout: float | None = None, start: Status | None = None) -> Status:
        """Polls ``status`` until ``predicate(status)`` is true and returns that status. ``within`` is
        a therapy duration from the first status (the runner's ``now_ns``); past it, or past the
        wall-clock cap (``wall_timeout``, default twice ``within`` at the run's time scale + 10 s),
        raises ``WaitTimeout``."""
        limit = duration_ns(within)
        s0 = start or self.status()
        t0, w0 = s0.now_ns, time.monotonic()
        cap = self._wall_cap(limit, s0.time_scale, wall_timeout)
        s = s0
        while True:
            if predicate(s):
                return s
            wall = time.monotonic() - w0
            if s.now_ns - t0 > limit:
                raise WaitTimeout(f"{what}: not within {format_duration(limit)} of therapy time "
                                  f"(waited {format_duration(s.now_ns - t0)}, {wall:.1f} s wall)",
                                  therapy_elapsed_ns=s.now_ns - t0, wall_elapsed_s=wall, last_status=s)
            if wall > cap:
                raise WaitTimeout(f"{what}: wall-clock cap of {cap:.1f} s reached after {format_duration(s.now_ns - t0)} "
                                  f"of therapy time (the runner is not advancing at its time scale {s0.time_scale}×)",
                                  therapy_elapsed_ns=s.now_ns - t0, wall_elapsed_s=wall, last_status=s)
            time.sleep(self.poll_interval)
            s = self.status()

    def advance(self, duration: str | int, *, wall_timeout: float | None = None) -> Status:
        """Waits until ``duration`` of therapy time has passed on the runner; returns the status."""
        span = duration_ns(duration)
        s0 = self.status()
        return self.wait_until(lambda s: s.now_ns - s0.now_ns >= span, format_duration(span + span // 2 + NS_PER_S),
                               what=f"{format_duration(span)} of therapy time", wall_timeout=wall_timeout, start=s0)

    def wait_for_alarm(self, name: str, within: str | int, *, since_ns: int | None = None,
                       wall_timeout: float | None = None, events: bool | None = None) -> AlarmSeen:
        """Waits until the alarm ``name`` is raised, at most ``within`` (therapy time, the files'
        duration syntax) after the wait started, and returns it with its raise instant.

        ``within`` is therapy time, judged on the controller's own clock (``now_ns``, the raise
        instant): an alarm the controller raised later than that fails the wait even if it was seen
        only now, and one raised on time passes. An alarm raised before ``since_ns`` (default: the
        wait's start) does not count. The wall-clock cap (default twice ``within`` at the run's time
        scale + 10 s) fails the wait if the runner stops advancing; a runner that stops answering
        fails it with ``ReplyTimeout`` after ``timeout``.

        Where the runner streams events (``subscribe``) the wait reads ``alarm_raised`` from the
        stream, so an alarm raised and cleared between two polls is not missed; otherwise it polls
        ``status``. ``events=True`` insists on the stream, ``False`` polls."""
        limit = duration_ns(within)
        sub = None
        if events is not False:
            try:
                sub = self.subscribe(["alarm"])
            except RequestError:
                if events:
                    raise
        try:
            s = self.status()
            t0, w0 = s.now_ns, time.monotonic()
            since = t0 if since_ns is None else since_ns
            cap = self._wall_cap(limit, s.time_scale, wall_timeout)
            found: tuple[int, dict] | None = None
            while True:
                for e in sub.poll() if sub else []:
                    if e.get("event") == "alarm_raised" and e.get("alarm") == name and int(e["at_ns"]) >= since:
                        found = found or (int(e["at_ns"]), e, "events")
                a = s.alarm(name)
                if found is None and a is not None and alarm_raised_ns(a) >= since:
                    found = (alarm_raised_ns(a), a, "status")
                wall = time.monotonic() - w0
                if found is not None:
                    at, alarm, via = found
                    if at - t0 > limit:
                        raise WaitTimeout(f"alarm {name}: raised {format_duration(at - t0)} after the wait started, later than {format_duration(limit)}",
                                          therapy_elapsed_ns=s.now_ns - t0, wall_elapsed_s=wall, last_status=s)
                    return AlarmSeen(name=name, raised_ns=at, wait_started_ns=t0, seen_ns=s.now_ns, wall_s=wall, status=s, alarm=alarm, via=via)
                if s.now_ns - t0 > limit:
                    raise WaitTimeout(f"alarm {name}: not raised within {format_duration(limit)} of therapy time "
                                      f"(waited {format_duration(s.now_ns - t0)}, {wall:.1f} s wall)",
                                      therapy_elapsed_ns=s.now_ns - t0, wall_elapsed_s=wall, last_status=s)
                if wall > cap:
                    raise WaitTimeout(f"alarm {name}: wall-clock cap of {cap:.1f} s reached after {format_duration(s.now_ns - t0)} "
                                      f"of therapy time (the runner is not advancing at its time scale {s.time_scale}×)",
                                      therapy_elapsed_ns=s.now_ns - t0, wall_elapsed_s=wall, last_status=s)
                time.sleep(self.poll_interval)
                s = self.status()
        finally:
            if sub:
                sub.close()

    # -- the journal ------------------------------------------------------------------------

    def history(self, *, kinds: list[str] | None = None, since: str | None = None) -> dict:
        """The journal as ``itpump history --journal J --format json`` reads it (alongside the running
        writer): ``events`` (``seq``, ``atNanoseconds``, ``kind``, ``text``, ``commandSeq``, …),
        ``restarts``, ``interruptions``, ``state``, ``strokes``, ``reservoirNanolitres``."""
        if not self.journal:
            raise ItpumpError("history needs the runner's journal: give --itpump-journal PATH (or ITPUMP_JOURNAL)")
        if not self.binary:
            raise ItpumpError("history needs an itpump binary: give --itpump-binary PATH (or ITPUMP_BINARY)")
        args = [self.binary, "history", "--journal", self.journal, "--format", "json"]
        for k in kinds or []:
            args += ["--kind", k]
        if since is not None:
            args += ["--since", since]
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise ItpumpError(f"itpump history failed (exit {p.returncode}): {p.stderr.strip()}")
        return json.loads(p.stdout)

