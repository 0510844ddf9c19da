# HIL self-test, run inside the guest by HIL/selftest (busybox sh).
# Usage: guest-selftest.sh PULSES GEN...   with /payload/GEN/{bin,lib} holding toggle-GEN and the
# gpiod tools of that libgpiod generation (v1 = 1.6.x, v2 = 2.x).
# Writes one line per check to $HIL_OUT/checks.txt ("PASS name detail" / "FAIL name detail"),
# the raw trace of N pulses to $HIL_OUT/trace-GEN.txt, the chip's "NAME OFFSET GPIO" map to
# lines-GEN.txt and the toggle program's report to toggle-GEN.txt (the host counts the edges);
# exits with the number of failed checks (at most 100).
# shellcheck disable=SC2317 # helpers below are called through check/wait_for
. "$HIL_GUEST_LIB/guest-gpiosim.sh"
PULSES="$1"; shift
FAILED=0

check() { # check NAME DETAIL CONDITION...: record PASS/FAIL of the condition (a command)
    _name="$1" _detail="$2"; shift 2
    if "$@"; then _r=PASS; else _r=FAIL; FAILED=$((FAILED + 1)); fi
    echo "$_r $_name $_detail" | tee -a "$HIL_OUT/checks.txt"
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
    _n=$(($1 * 10)); shift
    while [ "$_n" -gt 0 ]; do "$@" && return 0; sleep 0.1; _n=$((_n - 1)); done
    return 1
}

sim_is() { [ "$(gpiosim_value "$1" "$2")" = "$3" ]; }

# tool GEN NAME ARGS...: run a gpiod tool of that generation with its own libraries.
tool() { _g="$1" _t="$2"; shift 2; LD_LIBRARY_PATH="/payload/$_g/lib" "/payload/$_g/bin/$_t" "$@"; }

gpioset_hold() { # GEN CHIP OFFSET NAME VALUE: hold an output until killed (run it with &)
    export LD_LIBRARY_PATH="/payload/$1/lib"
    case "$1" in
        v1) exec /payload/v1/bin/gpioset --mode=signal "$2" "$3=$5" ;;
        v2) exec /payload/v2/bin/gpioset -c "$2" "$4=$5" ;;
    esac
}

gpioget_value() { # GEN CHIP OFFSET NAME: print 0/1 as read through the character device
    case "$1" in
        v1) tool v1 gpioget "$2" "$3" ;;
        v2) tool v2 gpioget --numeric -c "$2" "$4" ;;
    esac
}

gpiomon_two() { # GEN CHIP OFFSET NAME: wait (15 s at most) for two edge events, one line each
    export LD_LIBRARY_PATH="/payload/$1/lib"
    case "$1" in
        v1) exec timeout 15 /payload/v1/bin/gpiomon --num-events=2 "$2" "$3" ;;
        v2) exec timeout 15 /payload/v2/bin/gpiomon --num-events=2 -c "$2" "$4" ;;
    esac
}

selftest_gen() {
    g="$1" chipname="hil-$1"
    gpiosim_create "$chipname" STEP DIR ENABLE FAULT || { check "$g-create" "gpio-sim chip" false; return; }
    chip="$(gpiosim_chip "$chipname")"
    check "$g-chip-visible" "$chip listed by gpiodetect" sh -c "LD_LIBRARY_PATH=/payload/$g/lib /payload/$g/bin/gpiodetect | grep -q '\[$chipname\]'"

    gpioset_hold "$g" "$chip" 1 DIR 1 &
    pid=$!
    check "$g-drive-output" "gpioset DIR=1 seen on the sim side" wait_for 10 sim_is "$chipname" DIR 1
    kill "$pid"; wait "$pid" 2>/dev/null

    gpiosim_pull "$chipname" FAULT up
    check "$g-read-pull-up" "gpioget FAULT after pull-up" test "$(gpioget_value "$g" "$chip" 3 FAULT)" = 1
    gpiosim_pull "$chipname" FAULT down
    check "$g-read-pull-down" "gpioget FAULT after pull-down" test "$(gpioget_value "$g" "$chip" 3 FAULT)" = 0

    gpiomon_two "$g" "$chip" 3 FAULT >"$HIL_OUT/gpiomon-$g.txt" 2>&1 &
    pid=$!
    sleep 1
    gpiosim_pull "$chipname" FAULT up; sleep 0.2; gpiosim_pull "$chipname" FAULT down
    wait "$pid"
    check "$g-edge-events" "gpiomon saw 2 edges from pull changes (irq_sim path)" \
        test "$(grep -c . "$HIL_OUT/gpiomon-$g.txt")" = 2

    gpiotrace_start "$chipname" 32768
    out="$(tool "$g" "toggle-$g" "$chip" 0 "$PULSES")"; rc=$?
    gpiotrace_stop "$HIL_OUT/trace-$g.txt"; overrun=$?
    echo "$out"
    check "$g-toggle" "toggle-$g ran ($out)" test "$rc" = 0
    check "$g-trace-complete" "ring buffer did not overrun" test "$overrun" = 0
    check "$g-final-low" "sim side reads 0 after the last pulse" sim_is "$chipname" STEP 0
    # Counting the edges is left to the host (HIL/lib/trace-edges): far faster than busybox under TCG.
    gpiosim_linemap "$chipname" >"$HIL_OUT/lines-$g.txt"
    echo "$out" >"$HIL_OUT/toggle-$g.txt"
    gpiosim_remove "$chipname"
}

: >"$HIL_OUT/checks.txt"
for gen in "$@"; do
    selftest_gen "$gen"
done
[ "$FAILED" -le 100 ] || FAILED=100
exit "$FAILED"
