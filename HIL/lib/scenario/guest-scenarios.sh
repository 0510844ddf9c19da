# shellcheck shell=sh
# Guest-side interpreter of HIL/scenarios/*.scn (busybox ash). Usage: sh guest-scenarios.sh GEN
# (GEN = v1 or v2: which payload's itpump runs). For each scenario file in $HIL_PAYLOAD/scenarios it
# creates a fresh gpio-sim chip (or, with HIL_BOARD_MAP set, uses a real board's loopback harness:
# hardware/loopback-harness.md), records the kernel GPIO trace, executes the directives (HIL/README.md,
# "Scenario files") and writes /out/GEN/NAME/: meta.txt, checks.txt (guest checks: PASS|FAIL <tab> NAME <tab> DETAIL <tab> UPTIME_MS),
# trace-checks.txt (assertions the host evaluates on the trace), trace.txt, lines.txt, run.out, run.err
# (the runner's event log), ctl-*.json, status-*.json. Exit 0 (the host decides pass/fail from the files).
. "$HIL_GUEST_LIB/guest-gpiosim.sh"
GEN="$1"
P="${HIL_PAYLOAD:-/payload}"
CHIP=hil-gpio-sim
RIGFILE="$P/hil-gpio-sim.yaml"
ROLES="STEP DIR ENABLE BUZZER LED_LOW LED_MEDIUM LED_HIGH OCCLUSION RESERVOIR_EMPTY STROKE_FEEDBACK"
ITP="$P/$GEN/bin/itpump"
SOCK=/tmp/hil-ctl/c.sock
export LD_LIBRARY_PATH="$P/$GEN/lib"
BOARD="${HIL_BOARD_MAP:-}"
if [ -n "$BOARD" ]; then
    . "${HIL_BOARD_LIB:?HIL_BOARD_LIB must name HIL/lib/scenario}/board-target.sh"
else
    # gpio-sim target: role names are the chip's line names; the sim side pulls inputs.
    target_setup() { gpiosim_create "$CHIP" $ROLES && gpiosim_linemap "$CHIP" > "$D/lines.txt" && gpiotrace_start "$CHIP" 32768; }
    target_teardown() { echo_trace_off; gpiosim_remove "$CHIP"; }
    target_pull() { gpiosim_pull "$CHIP" "$1" "$2"; }
    target_line() { echo "$1"; }
    # The echo learns ENABLE's every write from a tracefs instance of its own (gpio_value events of the
    # ENABLE line only; the suite's trace in the top-level instance is untouched): gpio-sim's
    # sim_gpioN/value cannot be waited on, and polling it missed 1.7 ms strokes under load.
    ECHO_TRACE=/sys/kernel/tracing/instances/hil-echo
    target_echo_args() {
        g=$(( $(gpiosim_base "$CHIP") + $(gpiosim_offset "$CHIP" ENABLE) ))
        [ -d "$ECHO_TRACE" ] || mkdir "$ECHO_TRACE" || return 1
        echo 0 > "$ECHO_TRACE/tracing_on"; : > "$ECHO_TRACE/trace"
        echo "gpio == $g && get == 0" > "$ECHO_TRACE/events/gpio/gpio_value/filter"
        echo 1 > "$ECHO_TRACE/events/gpio/gpio_value/enable"; echo 1 > "$ECHO_TRACE/tracing_on"
        echo "trace:$ECHO_TRACE:$g $(gpiosim_attr "$CHIP" STROKE_FEEDBACK)/pull"
    }
    echo_trace_off() {
        [ -d "$ECHO_TRACE" ] || return 0
        echo 0 > "$ECHO_TRACE/events/gpio/gpio_value/enable"; rmdir "$ECHO_TRACE" 2>/dev/null || true
    }
fi

log() { echo "[$GEN/$SC] $*"; }
check() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(uptime_ms)" >> "$D/checks.txt"; log "$1 $2 — $3"; }
meta() { echo "$1 $2" >> "$D/meta.txt"; }
mark() { echo "hil-mark $1" > /sys/kernel/tracing/trace_marker; }
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
ctl() { "$ITP" ctl --socket "$SOCK" "$@"; }

# runner_start: the real binary in the background; its pid and (later) exit status go to files.
runner_start() {
    rm -f "$D/run.rc" /tmp/run.pid   # the runner creates the socket directory itself (0700)
    meta max_stroke_lateness_ms "$LATENESS"
    rig="$RIGFILE"
    [ "$RIG" = nofeedback ] && { grep -v strokeFeedback "$rig" > /tmp/rig-nofeedback.yaml; rig=/tmp/rig-nofeedback.yaml; }
    ( "$ITP" run --backend gpiod --rig "$rig" --prescription "$P/scenarios/$RX" --time-scale "$SCALE" \
        --max-stroke-lateness "$LATENESS" --bring-up "$BRINGUP" --socket "$SOCK" --state "$D/state.json" >"$D/run.out" 2>"$D/run.err" &
      echo $! > /tmp/run.pid; wait $!; echo $? > "$D/run.rc" ) &
    while [ ! -s /tmp/run.pid ]; do sleep 0.05; done
    # The pump's firmware comes first on its CPU, as on a board: the suite's own `ctl` polls (a process
    # start each, ~0.5 s of emulated CPU) must not make the runner late.
    renice -n -10 -p "$(cat /tmp/run.pid)" >/dev/null 2>&1 || log "renice of the runner failed"
    mark start
}

# wait_exit SECS: until the runner has exited (its status file exists); 0 when it did.
wait_exit() {
    end=$(( $(uptime_ms) + $1 * 1000 ))
    while [ ! -f "$D/run.rc" ]; do [ "$(uptime_ms)" -lt "$end" ] || return 1; sleep 0.1; done
}

# expect_status SECS PATTERN...: poll `ctl status` until every fixed string appears.
expect_status() {
    secs="$1"; shift; end=$(( $(uptime_ms) + secs * 1000 )); n=$((n + 1))
    while :; do
        s="$(ctl status 2>&1)"; ok=1
        for p in "$@"; do case "$s" in *"$p"*) ;; *) ok=0 ;; esac; done
        [ "$ok" = 1 ] && { echo "$s" > "$D/status-$n.json"; check PASS "status:$*" "within ${secs}s"; return; }
        [ "$(uptime_ms)" -lt "$end" ] || { echo "$s" > "$D/status-$n.json"; check FAIL "status:$*" "not seen within ${secs}s (status-$n.json)"; return; }
        sleep 0.2
    done
}

# therapy_ns INSTANT: a therapy instant as the runner prints it (`Nd+HH:MM:SS[.fff…]`) in nanoseconds.
therapy_ns() {
    echo "$1" | awk -F'[d+:]' '{ printf "%.0f\n", ((($1 * 24 + $3) * 60 + $4) * 60 + $5) * 1e9 }'
}

# stroke_us: one stroke's mechanism time on this rig, µs: its steps at the step rate, plus the enable and
# direction set-up times (a priming bolus at a high time scale can ask for strokes faster than that).
stroke_us() {
    awk '/^ *stepsPerStroke:/ { n = $2 } /^ *stepRate:/ { r = $2 }
         /^ *(enableSetup|dirSetup):/ { v = $2; sub(/us$/, "", v); s += v }
         END { if (n > 0 && r > 0) printf "%d\n", n * 1e6 / r + s; else print 2000 }' "$RIGFILE"
}

# priming_deadline: once the runner has logged its priming bolus, sets nominal_ms and moves `end` to the
# deadline it gives (expect_bring_up). From the log, not a status reply: a runner busy priming answers a
# status late, maybe only once it is done.
priming_deadline() {
    [ -z "$nominal_ms" ] || return 0
    b="$(grep -m1 -F 'priming bolus started' "$D/run.err" 2>/dev/null \
        | sed -n 's/.* \([0-9]*d+[0-9:.]*\) priming bolus started: .* in \([0-9]*\) strokes, ends \([0-9]*d+[0-9:.]*\).*/\1 \2 \3/p')"
    [ -n "$b" ] || return 0
    set -- $b
    nominal_ms=$(awk -v t="$2" -v e="$(therapy_ns "$3")" -v w="$(therapy_ns "$1")" -v k="$SCALE" -v us="$(stroke_us)" \
        'BEGIN { a = (e - w) / k / 1e6; m = t * us / 1000; printf "%d\n", (a > m ? a : m) }')
    end=$(( $(uptime_ms) + nominal_ms * margin + 10000 ))
    meta priming_strokes "$2"; meta priming_nominal_ms "$nominal_ms"
}

# expect_bring_up: waits until the runner's bring-up (fill, prime, then the schedule; with
# `bring_up screening` no schedule) has primed the catheter and reached its end: phase "running", or
# stage "screening" with no bolus. Then the mark `running` (resp. `primed`): it follows the event it
# names, so every priming stroke comes before it and an accuracy window that starts after it holds
# none (the host refuses a window that does not). The deadline is the priming the runner reports, not a
# fixed time: once the runner has logged `T priming bolus started: … in N strokes, ends E`, the
# bolus's therapy time (E − T) at the time scale, or its N strokes at the rig's stroke time if longer, times
# HIL_PRIMING_MARGIN (10: a loaded host runs the guest several times slower), plus 10 s; before
# the bolus is seen, 30 s for the runner to start and fill. The check records the priming's wall time,
# its nominal time and the late wake-ups seen (each one is priming downtime the runner completes).
expect_bring_up() {
    n=$((n + 1)); t0=$(uptime_ms); end=$((t0 + 30000)); nominal_ms=; margin="${HIL_PRIMING_MARGIN:-10}"
    if [ "$BRINGUP" = screening ]; then want=screening; markname=primed; else want=running; markname=running; fi
    while :; do
        s="$(ctl status 2>&1)"
        case "$want:$s" in
            running:*'"phase":"running'*) break ;;
            screening:*'"bring_up":"screening'*)
                case "$s" in *'"primed":true'*) case "$s" in *'"bolus":"none"'*) break ;; esac ;; esac ;;
        esac
        priming_deadline
        if [ "$(uptime_ms)" -ge "$end" ]; then
            echo "$s" > "$D/status-$n.json"
            check FAIL "bring-up:$want" "not reached within $(( (end - t0) / 1000 )) s (priming nominal ${nominal_ms:-unknown} ms × $margin + 10 s; status-$n.json: $(echo "$s" | sed -n 's/.*\("bolus":"[^"]*"\).*\("late_wakes":[0-9]*\).*/\1 \2/p'))"
            return
        fi
        sleep 0.2
    done
    mark "$markname"
    priming_deadline
    echo "$s" > "$D/status-$n.json"
    late="$(echo "$s" | sed -n 's/.*"late_wakes":\([0-9]*\).*/\1/p')"
    meta priming_wall_ms "$(( $(uptime_ms) - t0 ))"; meta late_wakes_at_"$markname" "$late"
    check PASS "bring-up:$want" "after $(awk -v ms="$(( $(uptime_ms) - t0 ))" 'BEGIN { printf "%.1f", ms / 1000 }') s (priming nominal ${nominal_ms:-?} ms, deadline $(( (end - t0) / 1000 )) s; $late late wake-ups)"
}

# expect_status_absent PATTERN: the current status does not contain it.
expect_status_absent() {
    n=$((n + 1)); s="$(ctl status 2>&1)"; echo "$s" > "$D/status-$n.json"
    case "$s" in *"$1"*) check FAIL "status-absent:$1" "present (status-$n.json)" ;; *) check PASS "status-absent:$1" "absent" ;; esac
}

# ctl_expect RC ARGS...: one control request; its exit status must be RC (0 accepted, 2 refused).
ctl_expect() {
    want="$1"; shift; n=$((n + 1)); rc=0
    ctl "$@" > "$D/ctl-$n.json" 2>&1 || rc=$?
    LAST_CTL="ctl-$n.json"
    [ "$rc" = "$want" ] && check PASS "ctl:$*" "rc=$rc" || check FAIL "ctl:$*" "rc=$rc, expected $want: $(head -c 300 "$D/ctl-$n.json")"
}

# expect_reply PATTERN...: the last `ctl` reply contains every fixed string. For what the command itself
# started and may be over before a `status` poll (a process start each, slow in the guest while the
# runner gives a bolus) could see it: the reply is the runner's word on the command, taken at the command.
expect_reply() {
    r="$(cat "$D/${LAST_CTL:-none}" 2>/dev/null)"; ok=1
    for p in "$@"; do case "$r" in *"$p"*) ;; *) ok=0 ;; esac; done
    [ "$ok" = 1 ] && check PASS "reply:$*" "in ${LAST_CTL:-no reply}" || check FAIL "reply:$*" "not in ${LAST_CTL:-no ctl yet}: $(echo "$r" | head -c 300)"
}

# expect_exit CODE SECS: the runner exits with CODE within SECS.
expect_exit() {
    if wait_exit "$2"; then
        rc="$(cat "$D/run.rc")"
        [ "$rc" = "$1" ] && check PASS "exit:$1" "rc=$rc" || check FAIL "exit:$1" "rc=$rc"
    else
        check FAIL "exit:$1" "still running after ${2}s"
    fi
}

# expect_output PATTERN: the runner's stdout/stderr contain the fixed string.
expect_output() {
    if grep -qF -- "$*" "$D/run.out" "$D/run.err"; then check PASS "output:$*" found; else check FAIL "output:$*" "not in run.out/run.err"; fi
}

# expect_requestable: every output line of the chip can be requested by another consumer (released).
expect_requestable() {
    set --; for r in STEP DIR ENABLE BUZZER LED_LOW LED_MEDIUM LED_HIGH; do set -- "$@" "$(target_line $r)=0"; done
    rc=0; "$ITP" gpio set "$CHIP" "$@" > "$D/requestable.txt" 2>&1 || rc=$?
    [ "$rc" = 0 ] && check PASS released "all outputs requestable after exit" || check FAIL released "rc=$rc: $(head -c 300 "$D/requestable.txt")"
}

# hold LINE VALUE MS: another consumer holds an output line (itpump gpio set --hold-ms) in the background.
# Returns once the kernel reports the line in use (gpio info: "used by"), so a mark that follows names a
# line that is really held: the holder's own request and write can't land after it, however slowly the
# holder starts on a loaded machine. A holder that never gets the line within 30 s is a FAIL.
hold() {
    "$ITP" gpio set "$CHIP" "$(target_line "$1")=$2" --hold-ms "$3" > "$D/hold.txt" 2>&1 &
    echo $! > /tmp/hold.pid
    end=$(( $(uptime_ms) + 30000 ))
    until "$ITP" gpio info --chip "$CHIP" 2>/dev/null | grep -F "\"$(target_line "$1")\"" | grep -qF " used by"; do
        if [ "$(uptime_ms)" -ge "$end" ]; then
            check FAIL "hold:$1" "the holder did not request the line within 30 s: $(head -c 300 "$D/hold.txt")"
            return
        fi
        sleep 0.05
    done
    meta hold_seen_ms "$(uptime_ms)"
}

# echo_feedback on|off: the stroke-feedback sensor model (echo-feedback mirrors ENABLE onto STROKE_FEEDBACK).
echo_feedback() {
    if [ "$1" = on ]; then
        args="$(target_echo_args)" || { check FAIL echo-feedback "cannot set up the ENABLE source"; return; }
        # shellcheck disable=SC2086 # the target gives the arguments as words
        "$P/bin/echo-feedback" $args &
        echo $! > /tmp/echo.pid
        # The echo is the motor's sensor, hardware on a board: it answers before the runner (−10), which,
        # busy with a priming bolus, would otherwise starve it past the 20 ms feedback timeout.
        renice -n -15 -p "$(cat /tmp/echo.pid)" >/dev/null 2>&1 || log "renice of the echo failed"
    else
        [ -s /tmp/echo.pid ] && kill "$(cat /tmp/echo.pid)" 2>/dev/null; rm -f /tmp/echo.pid
        target_pull STROKE_FEEDBACK down
    fi
}

# jitter MAX_MS: a seeded pause of 0 … MAX_MS ms (the scenario's seed makes it reproducible).
jitter() {
    ms=$(awk -v s="$SEED" -v m="$1" -v k="$n" 'BEGIN { srand(s * 1000 + k); printf "%d", rand() * m }')
    meta jitter_ms "$ms"; sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
}

# directive WORDS...: one line of a scenario file.
directive() {
    [ $# -gt 0 ] || return 0
    cmd="$1"; shift
    case "$cmd" in
        scenario|describe|kind) meta "$cmd" "$*" ;;
        rig) RIG="$1"; meta rig "$1" ;;
        prescription) RX="$1"; meta prescription "$1" ;;
        scale) SCALE="$1"; meta scale "$1" ;;
        bring_up) BRINGUP="$1"; meta bring_up "$1" ;;
        max_stroke_lateness) LATENESS="$1" ;;
        seed) SEED="$1"; meta seed "$1" ;;
        start) runner_start ;;
        sleep) sleep "$1" ;;
        jitter) jitter "$1" ;;
        mark) mark "$1" ;;
        pull) target_pull "$1" "$2" ;;
        ctl) ctl_expect "$@" ;;
        expect_status) expect_status "$@" ;;
        expect_bring_up) expect_bring_up ;;
        expect_reply) expect_reply "$@" ;;
        expect_status_absent) expect_status_absent "$*" ;;
        expect_exit) expect_exit "$@" ;;
        expect_output) expect_output "$*" ;;
        expect_requestable) expect_requestable ;;
        hold) hold "$@" ;;
        echo_feedback) echo_feedback "$1" ;;
        sigterm) kill -TERM "$(cat /tmp/run.pid)" ;;
        trace|accuracy) echo "$cmd $*" >> "$D/trace-checks.txt" ;;
        *) check FAIL "directive:$cmd" "unknown directive" ;;
    esac
}

# cleanup_scenario: nothing of this scenario may leak into the next one.
cleanup_scenario() {
    for f in /tmp/run.pid /tmp/hold.pid /tmp/echo.pid; do [ -s "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
    wait_exit 5 || true
    rm -f /tmp/run.pid /tmp/hold.pid /tmp/echo.pid "$SOCK"
    gpiotrace_stop "$D/trace.txt" || check FAIL trace-buffer "ring buffer overran"
    target_teardown
}

# run_scenario FILE
run_scenario() {
    SC="$(basename "$1" .scn)"; D="$HIL_OUT/$GEN/$SC"; mkdir -p "$D"; n=0
    # The runner's --max-stroke-lateness: 2000 ms unless the scenario says otherwise (`max_stroke_lateness`).
    # At 120-240x the default 200 ms is 24-48 s of therapy, and the emulated CPU misses it by 200-660 ms
    # many times a scenario on a loaded host (a host stall, not the firmware's): each would be accounted
    # as downtime the scenario did not cause (therapyInterruption, a high alarm over the LEDs it checks,
    # strokes missing from an accuracy window, a test dose cut short). 2 s lets such stalls be given late.
    RIG=full; RX=; SCALE=1; SEED=0; BRINGUP=therapy; LATENESS=2000
    : > "$D/checks.txt"; : > "$D/trace-checks.txt"; meta generation "$GEN"; meta file "$(basename "$1")"
    meta accel "${HIL_QEMU_ACCEL:-tcg}"
    target_setup || { check FAIL target "GPIO chip/trace not set up"; return; }
    t0=$(uptime_ms); meta started_uptime_ms "$t0"; meta started_utc "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line%%#*}"
        # shellcheck disable=SC2086 # words are split on purpose, never globbed (trace * …)
        set -f; set -- $line; set +f
        directive "$@"
    done < "$1"
    mark end
    cleanup_scenario
    meta wall_ms "$(( $(uptime_ms) - t0 ))"
}

mkdir -p "$HIL_OUT/$GEN"
"$ITP" --version > "$HIL_OUT/$GEN/version.txt" 2>&1 || true
for f in "$P"/scenarios/*.scn; do run_scenario "$f"; done
exit 0
