# shellcheck shell=sh
# gpio-sim and GPIO-trace helpers for HIL guest scripts (busybox sh). Source it in the guest:
#     . "$HIL_GUEST_LIB/guest-gpiosim.sh"
# A chip is named by the caller (NAME below); lines are addressed by offset or by the line name given
# at creation. Functions print their answer on stdout and return non-zero (with a message on stderr)
# when something is wrong.
#
#   gpiosim_create NAME LINE_NAME...   make chip NAME (label NAME) with those line names, go live
#   gpiosim_remove NAME                take it down again
#   gpiosim_chip NAME                  /dev/gpiochipN of the chip (what a program opens)
#   gpiosim_offset NAME LINE           offset of a line (LINE = name or offset)
#   gpiosim_base NAME                  the chip's global GPIO number base (trace events use it)
#   gpiosim_linemap NAME               "LINE_NAME OFFSET GPIO" per line (for host-side trace analysis)
#   gpiosim_attr NAME LINE             /sys/devices/platform/<dev>/<chip>/sim_gpioN (simulation side)
#   gpiosim_pull NAME LINE up|down     what a program reading the input will see
#   gpiosim_value NAME LINE            0/1: what the program drives (or the pull, for an input)
#   gpiotrace_start NAME [BUFFER_KB]   record gpio_value "set" + gpio_direction events of the chip
#   gpiotrace_stop FILE                stop; copy the trace to FILE; fail if the ring buffer overran
#   (analysing big traces is much faster on the host: HIL/lib/trace-edges; these are for small ones)
#   gpiotrace_sets FILE NAME LINE      number of "set" events recorded for that line
#   gpiotrace_edges FILE NAME LINE     number of value changes between consecutive "set" events
#                                      (the first is the value set when the line was requested)
#   gpiotrace_times FILE NAME LINE     "SECONDS VALUE" for each "set" event of that line

GPIOSIM_CFS=/sys/kernel/config/gpio-sim
GPIOTRACE=/sys/kernel/tracing

gpiosim_err() { echo "gpiosim: $*" >&2; return 1; }

gpiosim_create() {
    _name="$1"; shift
    [ -d "$GPIOSIM_CFS" ] || gpiosim_err "configfs gpio-sim missing (module not loaded?)" || return 1
    mkdir "$GPIOSIM_CFS/$_name" || return 1
    mkdir "$GPIOSIM_CFS/$_name/bank0" || return 1
    echo "$#" >"$GPIOSIM_CFS/$_name/bank0/num_lines"
    echo "$_name" >"$GPIOSIM_CFS/$_name/bank0/label"
    _i=0
    for _line in "$@"; do
        mkdir "$GPIOSIM_CFS/$_name/bank0/line$_i"
        echo "$_line" >"$GPIOSIM_CFS/$_name/bank0/line$_i/name"
        _i=$((_i + 1))
    done
    echo 1 >"$GPIOSIM_CFS/$_name/live" || gpiosim_err "could not make $_name live"
}

gpiosim_remove() {
    _d="$GPIOSIM_CFS/$1"
    [ -d "$_d" ] || return 0
    echo 0 >"$_d/live"
    for _l in "$_d"/bank0/line*; do [ -d "$_l" ] && rmdir "$_l"; done
    rmdir "$_d/bank0" "$_d"
}

gpiosim_chip() {
    _c="$(cat "$GPIOSIM_CFS/$1/bank0/chip_name" 2>/dev/null)" || gpiosim_err "no live chip $1" || return 1
    echo "/dev/$_c"
}

gpiosim_offset() {
    case "$2" in
        *[!0-9]* | '') ;;
        *) echo "$2"; return 0 ;;
    esac
    for _l in "$GPIOSIM_CFS/$1"/bank0/line*; do
        if [ "$(cat "$_l/name")" = "$2" ]; then echo "${_l##*/line}"; return 0; fi
    done
    gpiosim_err "chip $1 has no line named $2"
}

gpiosim_base() {
    for _g in /sys/class/gpio/gpiochip*; do
        if [ "$(cat "$_g/label")" = "$1" ]; then cat "$_g/base"; return 0; fi
    done
    gpiosim_err "no /sys/class/gpio entry labelled $1"
}

gpiosim_linemap() {
    _base="$(gpiosim_base "$1")" || return 1
    for _l in "$GPIOSIM_CFS/$1"/bank0/line*; do
        _off="${_l##*/line}"
        echo "$(cat "$_l/name") $_off $((_base + _off))"
    done
}

gpiosim_attr() {
    _dev="$(cat "$GPIOSIM_CFS/$1/dev_name")" || return 1
    _chip="$(cat "$GPIOSIM_CFS/$1/bank0/chip_name")" || return 1
    _off="$(gpiosim_offset "$1" "$2")" || return 1
    echo "/sys/devices/platform/$_dev/$_chip/sim_gpio$_off"
}

gpiosim_pull() {
    case "$3" in up | down) ;; *) gpiosim_err "pull must be up or down, not $3"; return 1 ;; esac
    _a="$(gpiosim_attr "$1" "$2")" || return 1
    echo "pull-$3" >"$_a/pull"
}

gpiosim_value() {
    _a="$(gpiosim_attr "$1" "$2")" || return 1
    cat "$_a/value"
}

gpiotrace_start() {
    _base="$(gpiosim_base "$1")" || return 1
    _n="$(cat "$GPIOSIM_CFS/$1/bank0/num_lines")"
    [ -d "$GPIOTRACE/events/gpio" ] || gpiosim_err "no GPIO trace events in $GPIOTRACE" || return 1
    echo 0 >"$GPIOTRACE/tracing_on"
    echo "${2:-16384}" >"$GPIOTRACE/buffer_size_kb"
    echo mono >"$GPIOTRACE/trace_clock"
    : >"$GPIOTRACE/trace"
    echo "gpio >= $_base && gpio < $((_base + _n)) && get == 0" >"$GPIOTRACE/events/gpio/gpio_value/filter"
    echo "gpio >= $_base && gpio < $((_base + _n))" >"$GPIOTRACE/events/gpio/gpio_direction/filter"
    echo 1 >"$GPIOTRACE/events/gpio/gpio_value/enable"
    echo 1 >"$GPIOTRACE/events/gpio/gpio_direction/enable"
    echo 1 >"$GPIOTRACE/tracing_on"
}

gpiotrace_stop() {
    echo 0 >"$GPIOTRACE/tracing_on"
    cat "$GPIOTRACE/trace" >"$1"
    echo 0 >"$GPIOTRACE/events/gpio/gpio_value/enable"
    echo 0 >"$GPIOTRACE/events/gpio/gpio_direction/enable"
    _over="$(awk '/^overrun:/ { s += $2 } END { print s + 0 }' "$GPIOTRACE"/per_cpu/cpu*/stats)"
    [ "$_over" = 0 ] || gpiosim_err "trace ring buffer overran ($_over events lost): raise BUFFER_KB"
}

# Trace lines look like:  toggle-123 [000] ..... 12.345678: gpio_value: 1020 set 1
# (gpio_direction lines: "... gpio_direction: 1020 out (0)", the number in brackets is an error code.)
# Filtering with grep first keeps this fast: busybox awk over 20000 lines takes ~2 s under TCG.

# gpiotrace_gpio NAME LINE: global GPIO number of a line, as trace events print it.
gpiotrace_gpio() { echo $(($(gpiosim_base "$1") + $(gpiosim_offset "$1" "$2"))); }

gpiotrace_sets() {
    _g="$(gpiotrace_gpio "$2" "$3")" || return 1
    grep -c "gpio_value: $_g set " "$1"
}

gpiotrace_edges() {
    _g="$(gpiotrace_gpio "$2" "$3")" || return 1
    grep "gpio_value: $_g set " "$1" | awk '{ if (NR > 1 && $NF != last) n++; last = $NF } END { print n + 0 }'
}

# gpiotrace_times FILE NAME LINE: "SECONDS VALUE" per set event of that line (timestamps in s, µs resolution).
gpiotrace_times() {
    _g="$(gpiotrace_gpio "$2" "$3")" || return 1
    grep "gpio_value: $_g set " "$1" | awk '{ t = $(NF - 4); sub(":", "", t); print t, $NF }'
}
