"""Starting and stopping ``itpump run --backend sim`` for a test: a temporary socket and journal,
a wait until it answers with therapy running, and a clean stop (SIGTERM, exit 0) that is checked."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .client import ConnectionLost, ItpumpError, Pump, Status


class RunnerFailed(ItpumpError):
    """The runner did not start, did not become ready, or did not stop cleanly. The message holds
    the end of its log."""


def repo_root() -> Path:
    """The repository this package lives in (``HIL/python/itpump_hil`` → the root)."""
    return Path(__file__).resolve().parents[3]


def default_binary() -> str:
    """``.build/debug/itpump`` if it exists, else ``.build/release/itpump`` (building is the
    caller's job), in the repository this package lives in."""
    root = repo_root()
    for p in (root / ".build/debug/itpump", root / ".build/release/itpump"):
        if p.exists():
            return str(p)
    return str(root / ".build/debug/itpump")


class RunnerProcess:
    """One ``itpump run --backend sim`` in a directory of its own.

    ``workdir`` holds the journal (``pump.journal``, created with ``--create-journal``), the state
    file and the runner's log (``runner.log``: its stderr event log and stdout timing report). The
    socket goes in a fresh 0700 directory under the system's temporary directory (a Unix socket's
    path must stay under 100 bytes, which a test's tmp_path may not).
    """

    def __init__(self, binary: str, workdir: Path, *, prescription: str, rig: str, time_scale: int,
                 extra_args: list[str] | None = None, journal: bool = True):
        self.binary = binary
        self.workdir = Path(workdir)
        self.prescription = prescription
        self.rig = rig
        self.time_scale = time_scale
        self.extra_args = list(extra_args or [])
        self.socket_dir = tempfile.mkdtemp(prefix="itpump-hil-")
        self.socket_path = os.path.join(self.socket_dir, "control.sock")
        self.journal_path = str(self.workdir / "pump.journal") if journal else None
        self.state_path = str(self.workdir / "state.json")
        self.log_path = self.workdir / "runner.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.exit_codes: list[int] = []
        self.stopped_by_signal = False

    @property
    def args(self) -> list[str]:
        a = [self.binary, "run", "--backend", "sim", "--rig", self.rig, "--prescription", self.prescription,
             "--time-scale", str(self.time_scale), "--socket", self.socket_path, "--state", self.state_path]
        if self.journal_path:
            a += ["--journal", self.journal_path]
            if not os.path.exists(self.journal_path):
                a.append("--create-journal")
        return a + self.extra_args

    def start(self) -> None:
        """Starts the runner (creating the journal the first time, recovering it after)."""
        if not os.access(self.binary, os.X_OK):
            raise RunnerFailed(f"no itpump binary at {self.binary}: build it first (swift build) or give --itpump-binary PATH")
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"--- start {self.starts + 1}: {' '.join(self.args)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.starts += 1

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def pump(self, timeout: float = 10.0) -> Pump:
        return Pump(self.socket_path, timeout=timeout, journal=self.journal_path, binary=self.binary)

    def wait_ready(self, timeout: float = 60.0, *, therapy: bool = True) -> Status:
        """Polls ``status`` until the runner answers and (with ``therapy``) its bring-up has started
        therapy; returns that status. Raises ``RunnerFailed`` if it exits or takes longer."""
        deadline = time.monotonic() + timeout
        pump = self.pump(timeout=5.0)
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RunnerFailed(f"itpump run exited with {self.proc.returncode} before it was ready:\n{self.log_tail()}")
            try:
                s = pump.status()
                if not therapy or s.get("bring_up") in (None, "done"):
                    return s
                last = f"bring-up at {s.get('bring_up')}"
            except ConnectionLost as e:
                last = str(e)
            except ItpumpError as e:
                last = str(e)
            time.sleep(0.05)
        raise RunnerFailed(f"itpump run not ready within {timeout:g} s ({last}):\n{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then waits; returns the exit status (the runner's clean stop is 0). A runner that
        does not exit in time is killed and ``RunnerFailed`` raised."""
        p = self.proc
        if p is None:
            return 0
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            if self.stopped_by_signal:  # a SIGSTOPped runner handles SIGTERM once continued
                p.send_signal(signal.SIGCONT)
                self.stopped_by_signal = False
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                self.exit_codes.append(p.returncode)
                self.proc = None
                raise RunnerFailed(f"itpump run did not stop within {timeout:g} s of SIGTERM; killed:\n{self.log_tail()}")
        self.exit_codes.append(p.returncode)
        self.proc = None
        return self.exit_codes[-1]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Sends ``sig`` to the runner (a power cut is SIGKILL; SIGSTOP freezes it)."""
        if self.proc is not None:
            self.proc.send_signal(sig)
            if sig == signal.SIGSTOP:
                self.stopped_by_signal = True
            elif sig == signal.SIGCONT:
                self.stopped_by_signal = False

    def cleanup(self) -> None:
        """Kills a runner still running and removes the socket directory (the workdir stays)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.socket_dir, ignore_errors=True)
