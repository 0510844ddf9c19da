# shellcheck shell=sh
# The real-board target of guest-scenarios.sh (sourced when HIL_BOARD_MAP is set): the runner drives a
# board's GPIO chip as its rig file says, the harness side is the loopback wiring of
# hardware/loopback-harness.md. The map file (hardware/loopback-*.map) says, one per line:
#   runner_chip LABEL            the runner's chip (as in the rig file; the trace is filtered to it)
#   rig PATH                     the board's rig file
#   line ROLE NAME               the runner's line name for each role (STEP, DIR, …, STROKE_FEEDBACK)
#   drive ROLE GPIO ACTIVE       harness output (global sysfs number) wired to a runner input; ACTIVE = 0|1
#   sense ROLE GPIO ACTIVE       harness input (global sysfs number) wired to a runner output (ENABLE, for
#                                the echo); ACTIVE = the level that means enabled (0 for an active-low /ENABLE)
# Harness lines go through the legacy sysfs interface (/sys/class/gpio), so they stay driven between commands.

map_get() { awk -v k="$1" -v r="$2" '$1 == k && (r == "" || $2 == r) { print $(r == "" ? 2 : 3); exit }' "$BOARD"; }
map_active() { awk -v r="$1" '$1 == "drive" && $2 == r { print $4; exit }' "$BOARD"; }

CHIP="$(map_get runner_chip "")"
RIGFILE="$(map_get rig "")"

# sysfs_gpio N in|out: export a harness line once and set its direction.
sysfs_gpio() {
    [ -d "/sys/class/gpio/gpio$1" ] || echo "$1" > /sys/class/gpio/export
    echo "$2" > "/sys/class/gpio/gpio$1/direction"
}

# board_chip_dir: /sys/class/gpio/gpiochipN of the runner's chip (by label).
board_chip_dir() {
    for c in /sys/class/gpio/gpiochip*; do [ "$(cat "$c/label")" = "$CHIP" ] && { echo "$c"; return 0; }; done
    return 1
}

target_line() { map_get line "$1"; }

target_setup() {
    cd_=$(board_chip_dir) || return 1
    base=$(cat "$cd_/base"); ngpio=$(cat "$cd_/ngpio")
    "$ITP" gpio info --chip "$CHIP" > /tmp/board-info.txt || return 1
    : > "$D/lines.txt"
    for r in $ROLES; do
        name="$(target_line "$r")"; [ -n "$name" ] || continue
        off=$(awk -v n="\"$name\"" '$1 == "line" && $3 == n { sub(":", "", $2); print $2 }' /tmp/board-info.txt)
        [ -n "$off" ] && echo "$r $off $((base + off))" >> "$D/lines.txt"
    done
    for r in OCCLUSION RESERVOIR_EMPTY STROKE_FEEDBACK; do
        g="$(map_get drive "$r")"; [ -n "$g" ] || continue
        sysfs_gpio "$g" out; target_pull "$r" down
    done
    g="$(map_get sense ENABLE)"
    if [ -n "$g" ]; then
        sysfs_gpio "$g" in
        a=$(awk '$1 == "sense" && $2 == "ENABLE" { print $4; exit }' "$BOARD")
        [ "$a" = 0 ] && echo 1 > "/sys/class/gpio/gpio$g/active_low" || echo 0 > "/sys/class/gpio/gpio$g/active_low"
        # edge notifications let the echo wait for ENABLE's changes (poll) instead of only polling it
        echo both > "/sys/class/gpio/gpio$g/edge" 2>/dev/null || true
    fi
    T=/sys/kernel/tracing
    echo 0 > $T/tracing_on; echo 32768 > $T/buffer_size_kb; echo mono > $T/trace_clock; : > $T/trace
    echo "gpio >= $base && gpio < $((base + ngpio)) && get == 0" > $T/events/gpio/gpio_value/filter
    echo "gpio >= $base && gpio < $((base + ngpio))" > $T/events/gpio/gpio_direction/filter
    echo 1 > $T/events/gpio/gpio_value/enable; echo 1 > $T/events/gpio/gpio_direction/enable
    echo 1 > $T/tracing_on
}

# target_pull ROLE up|down: up = active, whatever level the wiring needs.
target_pull() {
    g="$(map_get drive "$1")"; a="$(map_active "$1")"
    [ -n "$g" ] || { echo "board map has no drive line for $1" >&2; return 1; }
    [ "$2" = up ] && v="$a" || v=$((1 - a))
    echo "$v" > "/sys/class/gpio/gpio$g/value"
}

target_teardown() { for r in OCCLUSION RESERVOIR_EMPTY STROKE_FEEDBACK; do target_pull "$r" down 2>/dev/null; done; }

target_echo_args() {
    a="$(map_active STROKE_FEEDBACK)"
    echo "/sys/class/gpio/gpio$(map_get sense ENABLE)/value /sys/class/gpio/gpio$(map_get drive STROKE_FEEDBACK)/value $a $((1 - a))"
}
