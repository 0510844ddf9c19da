#!/usr/bin/env python3
"""Host side of HIL/power-cut: boots the power-cut guest again and again on the same journal disk and
cuts its power (SIGKILL of qemu) at seeded random moments; the truth (every stroke the simulated pump
performed, 8 bytes each) and the guest's facts (acknowledged commands, the journal's recovery figures)
reach the host live over virtio-serial ports, so a cut cannot lose what already happened. After every
cut the next boot's journal is checked against that truth (see HIL/README.md, "Power cut").

Usage: powercut.py --prep DIR --sys-img IMG --journal-img IMG --out DIR [--cuts N] [--seed S]
                   [--scale K] [--cache MODE] [--boot-timeout SECS]
Exit 0 when every check passed, 1 when one failed, 125 when a guest could not be run.
"""
import argparse, json, os, random, shlex, signal, struct, subprocess, sys, time

CAPACITY_NL = 20_000_000   # bench 20 mL, filled once by the bring-up (the traffic has no refill)
STROKE_NL = 250
N = 16                     # --strokes-per-step in the guest


def load_env(path):
    env = {}
    for line in open(path):
        k, _, v = line.rstrip("\n").partition("=")
        env[k] = shlex.split(v)[0] if v else ""
    return env


class Fatal(Exception):
    pass


def read_lines(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    # Only complete lines: a line still being written has no newline yet.
    return [l.decode("utf-8", "replace") for l in data.split(b"\n")[:-1]]


def boot(a, env, n, final, rng, log):
    """One boot; returns its record. Cuts the power at a seeded moment unless final."""
    d = a.out
    ev, truth, console, out_img = (f"{d}/events-{n}.txt", f"{d}/truth-{n}.bin", f"{d}/console-{n}.log", f"{d}/out-{n}.img")
    for p in (ev, truth):
        open(p, "wb").close()
    with open(out_img, "wb") as f:
        f.truncate(64 << 20)
    args = env["KERNEL_ARGS"] + f" hilcut={n} hilseed={a.seed} hilscale={a.scale}" + (" hilfinal=1" if final else "") + (" hilnofsync=1" if a.no_fsync else "")
    cmd = ["qemu-system-x86_64", *env.get("HIL_ACCEL_ARGS", "-accel tcg").split(), "-smp", "1", "-m", "1024", "-M", "pc", "-nodefaults", "-nographic",
           "-no-reboot", "-chardev", "file,id=console,path=" + console, "-serial", "chardev:console",
           "-kernel", env["HIL_VMLINUX"], "-initrd", f"{a.prep}/initrd.cpio", "-append", args,
           "-drive", f"file={out_img},format=raw,if=none,id=out,cache=unsafe", "-device", "virtio-blk-pci,drive=out",
           "-drive", f"file={a.journal_img},format=raw,if=none,id=journal,cache={a.cache}", "-device", "virtio-blk-pci,drive=journal",
           "-drive", f"file={a.sys_img},format=raw,if=none,id=sys,cache=unsafe,readonly=on", "-device", "virtio-blk-pci,drive=sys",
           "-device", "virtio-serial-pci,id=vser",
           "-chardev", f"file,id=truth,path={truth}", "-device", "virtserialport,bus=vser.0,nr=1,chardev=truth,name=itpump.truth",
           "-chardev", f"file,id=events,path={ev}", "-device", "virtserialport,bus=vser.0,nr=2,chardev=events,name=itpump.events"]
    # The seeded moment: a third of the cuts 0-6 s after the journal was checked (the runner's start-up,
    # its recovery and restart commit, the bring-up on the first boot); the others 0-6 s after the runner
    # first reported therapy running (strokes, commits and control commands). The first boot always
    # brings the pump up before its cut.
    early = n > 0 and rng.random() < 1 / 3
    mark, delay = ("CHECKED", rng.uniform(0, 6.0)) if early else ("READY", rng.uniform(0, 6.0))
    t0 = time.monotonic()
    q = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(f"{d}/qemu-{n}.stderr", "wb"))
    seen_at = None
    deadline = t0 + a.boot_timeout
    want = "FINAL" if final else mark
    while True:
        lines = read_lines(ev)
        if any(l.startswith("FAIL") for l in lines):
            q.kill(); q.wait()
            raise Fatal(f"boot {n}: guest setup failed: {[l for l in lines if l.startswith('FAIL')]} (console {console})")
        if seen_at is None and any(l.split(" ", 1)[0] == want for l in lines):
            seen_at = time.monotonic()
            if final:
                break
        if seen_at is not None and time.monotonic() >= seen_at + delay:
            break
        if q.poll() is not None:
            raise Fatal(f"boot {n}: qemu ended (status {q.returncode}) before {want}; console {console}")
        if time.monotonic() > deadline:
            q.kill(); q.wait()
            raise Fatal(f"boot {n}: no {want} within {a.boot_timeout} s; console {console}")
        time.sleep(0.01)
    if final:
        try:
            q.wait(timeout=120)
        except subprocess.TimeoutExpired:
            q.kill(); q.wait()
            raise Fatal(f"boot {n}: the final guest did not power off; console {console}")
    else:
        q.send_signal(signal.SIGKILL)   # the power cut
        q.wait()
    lines = read_lines(ev)
    return {"n": n, "early": early, "mark": mark, "delay_s": round(delay, 3), "wall_s": round(time.monotonic() - t0, 1),
            "lines": lines, "truth": open(truth, "rb").read()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--prep", required=True); p.add_argument("--sys-img", required=True)
    p.add_argument("--journal-img", required=True); p.add_argument("--out", required=True)
    p.add_argument("--cuts", type=int, default=30); p.add_argument("--seed", type=int, default=20261128)
    p.add_argument("--scale", type=int, default=2000); p.add_argument("--cache", default="none")
    p.add_argument("--boot-timeout", type=float, default=240)
    p.add_argument("--no-fsync", action="store_true", help="the runner under libeatmydata (anti-vacuity: must fail)")
    a = p.parse_args()
    env = load_env(f"{a.prep}/boot.env")
    rng = random.Random(a.seed)
    began = time.monotonic()
    failures, results = [], []
    acked = []            # (boot, request, seq, accepted)
    prev_events = []
    instants = []
    prev_drift, worst_step, cuts_since_check, crashes_with_error = 0, 0, 0, 0
    checked = 0
    in_doubt_bound = 0

    def fail(msg):
        failures.append(msg)
        print(f"  FAIL {msg}", flush=True)

    for n in range(a.cuts + 1):
        final = n == a.cuts
        r = boot(a, env, n, final, rng, print)
        lines = r["lines"]
        # The checks of this boot: the state the previous cut left, read before the runner starts.
        verify = next((l for l in lines if l.startswith("VERIFY ")), None)
        hist = next((l for l in lines if l.startswith("HISTORY ")), None)
        given = len(instants)
        fig = ""
        if n > 0:
            cuts_since_check += 1
            if verify is None or hist is None:
                fail(f"boot {n}: the journal was not checked (no VERIFY/HISTORY line)")
            else:
                rc = verify.split(" ", 2)[1]
                if rc != "0" or "OK:" not in verify:
                    fail(f"boot {n}: journal verify: {verify[:400]}")
                try:
                    h = json.loads(hist[len("HISTORY "):])
                except json.JSONDecodeError as e:
                    fail(f"boot {n}: history is not JSON ({e}): {hist[:300]}")
                    h = None
                if h is not None:
                    checked += 1
                    strokes, est, upper = h["strokes"], h["reservoirNanolitres"], h["reservoirUpperBoundNanolitres"]
                    true_res = CAPACITY_NL - STROKE_NL * given
                    if est != CAPACITY_NL - STROKE_NL * strokes:
                        fail(f"boot {n}: estimate {est} nL is not the fill minus {strokes} strokes")
                    if est > true_res:
                        fail(f"boot {n}: estimate {est} nL above the true {true_res} nL (journal {strokes} strokes, truth {given})")
                    drift = strokes - given
                    step = drift - prev_drift
                    if step < 0 or step > N * cuts_since_check:
                        fail(f"boot {n}: error went from {prev_drift} to {drift} strokes over {cuts_since_check} cut(s) (limit {N} per cut)")
                    if true_res > upper:
                        fail(f"boot {n}: true reservoir {true_res} nL above the journal's bound {upper} nL")
                    in_doubt_bound = (upper - est) // STROKE_NL
                    if step > 0:
                        crashes_with_error += 1
                    worst_step = max(worst_step, step)
                    prev_drift, cuts_since_check = drift, 0
                    events = [(e["seq"], e["kind"], e["atNanoseconds"], e.get("commandSeq"), e["text"]) for e in h["events"]]
                    if events[:len(prev_events)] != prev_events:
                        fail(f"boot {n}: the journal lost or changed committed events ({len(prev_events)} before, {len(events)} now)")
                    prev_events = events
                    by_cmd = {}
                    for e in h["events"]:
                        if e.get("commandSeq") is not None:
                            by_cmd.setdefault(e["commandSeq"], []).append(e["kind"])
                    for (b, req, seq, accepted) in acked:
                        kinds = by_cmd.get(seq)
                        if seq is None or kinds is None:
                            fail(f"boot {n}: acknowledged command {req} (boot {b}, journal_seq {seq}) is not in the journal")
                        elif accepted == ("commandRefused" in kinds):
                            fail(f"boot {n}: acknowledged command {req} (boot {b}) was {'accepted' if accepted else 'refused'}, the journal says {kinds}")
                    fig = f"journal {strokes} strokes, truth {given}, error {drift} (+{step}), bracket {in_doubt_bound} strokes"
        # This boot's acknowledged commands (recorded on the host before the cut could lose them).
        for l in lines:
            if l.startswith("ACK "):
                _, req, reply = l.split(" ", 2)
                try:
                    rep = json.loads(reply)
                except json.JSONDecodeError:
                    continue      # no reply (the runner was busy stopping, or the request timed out): not acknowledged
                if "accepted" in rep or "refused" in rep:
                    acked.append((n, req, rep.get("journal_seq"), "accepted" in rep))
        # The truth: strokes performed during this boot, strictly after every earlier one.
        new = [struct.unpack_from("<q", r["truth"], i)[0] for i in range(0, len(r["truth"]) - len(r["truth"]) % 8, 8)]
        if len(r["truth"]) % 8:
            fail(f"boot {n}: truth channel ended in a partial record ({len(r['truth'])} bytes)")
        for t in new:
            if instants and t <= instants[-1]:
                fail(f"boot {n}: a stroke at {t} ns not after the previous one at {instants[-1]} ns (given twice?)")
                break
            instants.append(t)
        acks = sum(1 for l in lines if l.startswith("ACK "))
        what = "final check" if final else f"cut {r['delay_s']:.2f} s after {r['mark']}"
        print(f"  boot {n:2d}: {what}; {len(new)} strokes, {acks} replies; {fig}; {r['wall_s']} s", flush=True)
        results.append({k: v for k, v in r.items() if k not in ("lines", "truth")} | {"strokes": len(new), "replies": acks})

    elapsed = time.monotonic() - began
    summary = {"cuts": a.cuts, "no_fsync": a.no_fsync, "seed": a.seed, "scale": a.scale, "cache": a.cache, "strokes_per_step": N,
               "boots_checked": checked, "strokes_given": len(instants), "acknowledged_commands": len(acked),
               "worst_error_added_by_one_cut_strokes": worst_step, "cuts_that_added_error": crashes_with_error,
               "cumulative_error_strokes": prev_drift, "cumulative_error_nl": prev_drift * STROKE_NL,
               "journal_bracket_strokes": in_doubt_bound, "seconds": round(elapsed, 1), "failures": failures, "boots": results}
    json.dump(summary, open(f"{a.out}/summary.json", "w"), indent=1)
    if len(instants) <= 1344:
        fail("the run must exercise delivery after priming (1,344 priming strokes), not only start-up")
    if len(acked) < a.cuts // 3:
        fail(f"only {len(acked)} acknowledged commands: the run must exercise the control channel")
    print(f"power-cut: {a.cuts} cuts (seed {a.seed}, {a.scale}x, N = {N}, journal disk cache={a.cache}{', runner under libeatmydata: fsync does nothing' if a.no_fsync else ''}), {checked} recoveries checked; "
          f"{len(instants)} strokes given, {len(acked)} acknowledged commands; worst error added by one cut {worst_step} strokes "
          f"({worst_step * STROKE_NL} nL), {crashes_with_error} cuts added error; cumulative error {prev_drift} strokes "
          f"({prev_drift * STROKE_NL} nL), journal bracket {in_doubt_bound} strokes; {elapsed:.0f} s")
    print(f"power-cut: {'PASS' if not failures else 'FAIL (%d)' % len(failures)}")
    return 0 if not failures else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fatal as e:
        print(f"\n[hil] FATAL: {e}\n", file=sys.stderr)
        sys.exit(125)
