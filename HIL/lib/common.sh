# shellcheck shell=bash
# Shared helpers for the HIL harness scripts (sourced, never run).
# Defines the cache layout, logging, and small utilities; has no side effects when sourced.

HIL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
HIL_LIB="$HIL_DIR/lib"
HIL_CACHE="${ITPUMP_CACHE:-$HOME/.cache/itpump}/hil"

hil_log() { printf '[hil %s] %s\n' "$(date +%T)" "$*" >&2; }
hil_die() { printf '\n[hil] FATAL: %s\n\n' "$*" >&2; exit "${HIL_DIE_STATUS:-125}"; }

# hil_need_root: the fetch step uses apt-get (download/install), which needs root here.
hil_need_root() {
    [ "$(id -u)" -eq 0 ] || hil_die "$1 needs root (apt-get); run as root or pre-populate $HIL_CACHE"
}

# hil_now: monotonic-ish seconds with milliseconds, for timings.
hil_now() { date +%s.%N | cut -c1-14; }
hil_elapsed() { awk -v a="$1" -v b="$(hil_now)" 'BEGIN { printf "%.1f", b - a }'; }

# hil_state_file: the resolved artefact paths written by `fetch` and read by `boot`.
hil_state_file() { printf '%s/current.env\n' "$HIL_CACHE"; }

# hil_load_state: source the paths of the current kernel, module dir, busybox, gpiod prefixes.
hil_load_state() {
    local f; f="$(hil_state_file)"
    [ -r "$f" ] || hil_die "no HIL cache state at $f; run HIL/lib/fetch first"
    # shellcheck disable=SC1090
    . "$f"
}

# hil_lock: serialize cache writers (two harness runs starting cold at once); held until exit.
hil_lock() {
    mkdir -p "$HIL_CACHE"
    exec 9>"$HIL_CACHE/.lock"
    flock 9
}
