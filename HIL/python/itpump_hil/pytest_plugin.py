"""pytest plugin for itpump HIL tests: a pump behind a control socket, started fresh per test or
one already running on a rig.

Load it with ``-p itpump_hil.pytest_plugin`` (``HIL/python`` on ``PYTHONPATH``) or from a
``conftest.py`` (``pytest_plugins = ["itpump_hil.pytest_plugin"]``; ``HIL/python/conftest.py`` does).

Fixtures:

- ``pump`` (``itpump_hil.Pump``): the pump under test, answering, with therapy running. By default a
  fresh ``itpump run --backend sim`` per test (temporary socket and journal, ``--time-scale`` from
  ``--itpump-time-scale``), stopped with SIGTERM at teardown, which must exit 0. With
  ``--itpump-socket PATH`` (or ``ITPUMP_SOCKET``) the runner already listening there instead (a rig).
- ``itpump_runner`` (``RunnerProcess`` or None against a given socket): for tests that restart,
  kill or freeze the runner; ``needs_own_runner`` skips a test when there is none.
- ``inject_fault(fault, for_=None)``: a fault, through the control channel (``inject`` on
  ``--backend sim``) or, against a rig, through ``--itpump-fault-command``.
- ``measure(name, value, unit, lower=None, upper=None)``: records a measurement with its limits as
  JUnit properties and fails the test when the value is outside them.

Marker ``@pytest.mark.itpump(prescription=…, time_scale=…, args=[…])`` changes the runner a test
gets (managed runners only).

On a failure the runner's log, journal and state go to ``--itpump-artifacts`` (default
``out/hil-python/artifacts``), one directory per test, and the path is a JUnit property.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .client import Pump, Status
from .durations import duration_ns
from .runner import RunnerFailed, RunnerProcess, default_binary, repo_root

# At 50,000× a wall-clock stall of 200 ms (the runner's default --max-stroke-lateness) is 2.8 h of
# therapy: on a shared CI host the scheduler alone causes that, and the runner would rightly account
# it as a therapy interruption the test did not ask for. 2 s keeps such stalls given late (the
# delivered total stays exact); N = 256 strokes per commit keeps the journal's fsyncs to ~20 a second
# at 100,000×, which the debug build sustains (N = 16 does not).
DEFAULT_RUN_ARGS = "--strokes-per-step 256 --max-stroke-lateness 2000"


def pytest_addoption(parser):
    g = parser.getgroup("itpump", "itpump HIL (control socket of itpump run)")
    g.addoption("--itpump-binary", default=os.environ.get("ITPUMP_BINARY"),
                help="itpump binary (default: ITPUMP_BINARY, else .build/debug/itpump, else .build/release/itpump; building is yours)")
    g.addoption("--itpump-socket", default=os.environ.get("ITPUMP_SOCKET"),
                help="control socket of a runner already running (a rig); default ITPUMP_SOCKET; unset: start itpump run --backend sim per test")
    g.addoption("--itpump-journal", default=os.environ.get("ITPUMP_JOURNAL"),
                help="that runner's journal, for history() (default ITPUMP_JOURNAL)")
    g.addoption("--itpump-time-scale", type=int, default=int(os.environ.get("ITPUMP_TIME_SCALE", "50000")),
                help="--time-scale of the runners this plugin starts (default 50000)")
    g.addoption("--itpump-run-args", default=os.environ.get("ITPUMP_RUN_ARGS", DEFAULT_RUN_ARGS),
                help=f"more arguments for the runners started (default `{DEFAULT_RUN_ARGS}`)")
    g.addoption("--itpump-prescription", default=None,
                help="prescription file of the runners started (default profiles/prescriptions/spinal-600.yaml)")
    g.addoption("--itpump-rig", default=None, help="rig file of the runners started (default profiles/rigs/hil-gpio-sim.yaml)")
    g.addoption("--itpump-fault-command", default=os.environ.get("ITPUMP_FAULT_COMMAND"),
                help="against a rig: shell command that injects a fault; {fault} and {for} are replaced (default ITPUMP_FAULT_COMMAND)")
    g.addoption("--itpump-max-wall", type=float, default=float(os.environ.get("ITPUMP_MAX_WALL", "120")),
                help="wall seconds a test may need at the runner's time scale before it is skipped as too slow (default 120)")
    g.addoption("--itpump-artifacts", default=None, help="where a failed test's runner log, journal and state go (default out/hil-python/artifacts)")


def pytest_configure(config):
    config.addinivalue_line("markers", "itpump(prescription=None, time_scale=None, args=None): the runner a test gets")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "_itpump_rep_" + rep.when, rep)


class ItpumpSettings:
    """The plugin's options, resolved."""

    def __init__(self, config):
        root = repo_root()
        opt = config.getoption
        self.binary = opt("--itpump-binary") or default_binary()
        self.socket = opt("--itpump-socket")
        self.journal = opt("--itpump-journal")
        self.time_scale = opt("--itpump-time-scale")
        self.run_args = shlex.split(opt("--itpump-run-args") or "")
        self.prescription = opt("--itpump-prescription") or str(root / "profiles/prescriptions/spinal-600.yaml")
        self.rig = opt("--itpump-rig") or str(root / "profiles/rigs/hil-gpio-sim.yaml")
        self.fault_command = opt("--itpump-fault-command")
        self.max_wall = opt("--itpump-max-wall")
        self.artifacts = Path(opt("--itpump-artifacts") or root / "out/hil-python/artifacts")

    @property
    def external(self) -> bool:
        return bool(self.socket)


@pytest.fixture(scope="session")
def itpump_settings(pytestconfig) -> ItpumpSettings:
    return ItpumpSettings(pytestconfig)


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-120:]


@pytest.fixture
def itpump_runner(request, itpump_settings, tmp_path):
    """A fresh ``itpump run --backend sim`` for this test, ready with therapy running; None when the
    tests point at a runner of their own (``--itpump-socket``). Stopped at teardown with SIGTERM,
    which must exit 0; on a failure its log, journal and state are kept as artefacts."""
    if itpump_settings.external:
        yield None
        return
    marker = request.node.get_closest_marker("itpump")
    kw = marker.kwargs if marker else {}
    r = RunnerProcess(itpump_settings.binary, tmp_path / "runner",
                      prescription=kw.get("prescription") or itpump_settings.prescription,
                      rig=kw.get("rig") or itpump_settings.rig,
                      time_scale=kw.get("time_scale") or itpump_settings.time_scale,
                      extra_args=itpump_settings.run_args + list(kw.get("args") or []))

    def keep_artifacts():
        dest = itpump_settings.artifacts / _safe_name(request.node.nodeid)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(r.workdir, dest, dirs_exist_ok=True)
        request.node.user_properties.append(("itpump_artifacts", str(dest)))
        return dest

    try:
        r.start()
        r.wait_ready()
    except RunnerFailed as e:
        r.cleanup()
        pytest.fail(f"{e}\n(artefacts in {keep_artifacts()})", pytrace=False)
    failure = None
    try:
        yield r
    finally:
        try:
            code = r.stop()
            if code != 0:
                failure = f"itpump run exited with {code} on SIGTERM (a clean stop exits 0):\n{r.log_tail()}"
        except RunnerFailed as e:
            failure = str(e)
        r.cleanup()
        call = getattr(request.node, "_itpump_rep_call", None)
        if failure or (call is not None and call.failed):
            keep_artifacts()
    if failure:
        pytest.fail(failure, pytrace=False)


@pytest.fixture
def pump(itpump_settings, itpump_runner) -> Pump:
    """The pump under test: the fresh runner's, or the one at ``--itpump-socket``, answering."""
    if itpump_runner is not None:
        return itpump_runner.pump()
    p = Pump(itpump_settings.socket, journal=itpump_settings.journal, binary=itpump_settings.binary)
    p.status()  # answers, or the test errors here with ConnectionLost
    return p


@pytest.fixture
def needs_own_runner(itpump_runner) -> RunnerProcess:
    """The test restarts, kills or freezes the runner: only with a runner this plugin started."""
    if itpump_runner is None:
        pytest.skip("restarts or signals the runner: needs one the plugin starts (no --itpump-socket)")
    return itpump_runner


@pytest.fixture
def therapy_budget(itpump_settings):
    """``therapy_budget(span)``: skips the test when ``span`` of therapy time (files' syntax) would
    take longer than ``--itpump-max-wall`` at the runner's time scale (a rig at 1× cannot run a
    17-day refill lapse inside a test session); returns the wall seconds it needs."""
    def check(pump: Pump, span: str) -> float:
        scale = pump.status().time_scale
        wall = duration_ns(span) / 1e9 / scale
        if wall > itpump_settings.max_wall:
            pytest.skip(f"needs {span} of therapy time: {wall:.0f} s wall at {scale}×, over --itpump-max-wall {itpump_settings.max_wall:g} s")
        return wall
    return check


@dataclass(frozen=True)
class FaultStart:
    """A fault as ``inject_fault`` started it: the status just before, and the therapy instant the
    fault began (the runner's ``at_ns`` where it says; else the status's ``now_ns``, a bound below)."""

    before: Status
    at_ns: int
    reply: dict | None


@pytest.fixture
def inject_fault(itpump_settings, pump):
    """``inject_fault(fault, for_=None, percent=None)``: on a runner with the simulated pump, the
    control channel's ``inject``; against a rig with ``--itpump-fault-command``, that command
    (``{fault}``, ``{for}`` replaced) run through the shell, which must exit 0."""
    def inject(fault: str, for_: str | None = None, percent: int | None = None) -> FaultStart:
        before = pump.status()
        if itpump_settings.fault_command:
            cmd = itpump_settings.fault_command.replace("{fault}", shlex.quote(fault)).replace("{for}", shlex.quote(for_ or ""))
            p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                raise AssertionError(f"fault command `{cmd}` exited {p.returncode}: {p.stderr.strip()}")
            return FaultStart(before=before, at_ns=before.now_ns, reply=None)
        reply = pump.inject(fault, for_=for_, percent=percent)
        return FaultStart(before=before, at_ns=int(reply.get("at_ns", before.now_ns)), reply=reply)
    return inject


@pytest.fixture
def measure(request):
    """``measure(name, value, unit, lower=None, upper=None)``: records an OpenHTF-style measurement
    (JUnit properties ``NAME``, ``NAME.unit``, ``NAME.lower``, ``NAME.upper``, ``NAME.outcome``) and
    fails the test when the value is outside its inclusive limits. Returns the value."""
    def record(name: str, value, unit: str, lower=None, upper=None):
        ok = value is not None and (lower is None or value >= lower) and (upper is None or value <= upper)
        props = request.node.user_properties
        props.append((name, value))
        props.append((f"{name}.unit", unit))
        if lower is not None:
            props.append((f"{name}.lower", lower))
        if upper is not None:
            props.append((f"{name}.upper", upper))
        props.append((f"{name}.outcome", "PASS" if ok else "FAIL"))
        assert ok, f"{name} = {value} {unit}, limits {lower if lower is not None else '-inf'} … {upper if upper is not None else '+inf'}"
        return value
    return record
