# shellcheck shell=bash
# Shared helpers for the HIL harness scripts (sourced, never run).
# Defines the cache layout, logging, and small utilities; has no side effects when sourced.

HIL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
HIL_LIB="$HIL_DIR/lib"
HIL_CACHE="${ITPUMP_CACHE:-$HOME/.cache/itpump}/hil"
# The guest's static itpump for libgpiod 1.6 (the host's) has a scratch path of its own, so it can
# build while another build (scripts/test's debug build in CI) holds .build's lock.
HIL_V1_BIN="$(dirname "$HIL_DIR")/.build-hilv1/release/itpump"
hil_build_v1() {
    (cd "$(dirname "$HIL_DIR")" && swift build -c release --static-swift-stdlib --product itpump --scratch-path .build-hilv1)
}

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

# hil_accel: sets HIL_ACCEL_USED (kvm or tcg), HIL_ACCEL_ARGS (qemu's accelerator arguments) and
# HIL_ACCEL_WHY. KVM (`-accel kvm -cpu host`) when /dev/kvm opens read-write and a probe boot of the
# cached kernel under it reaches the kernel's panic (no root file system) and powers off within
# HIL_KVM_PROBE_SECS (10) seconds; else TCG (`-accel tcg`). A /dev/kvm can exist and not run this guest:
# a paravirtual KVM such as kvm_pvm runs only kernels built for it, and there the probe's guest never
# prints a line. HIL_ACCEL=tcg|kvm forces one (kvm without a working KVM is fatal). The verdict is
# cached per host boot, kernel and qemu; a CPU without vmx/svm gets TCG without a probe ($HIL_CACHE/accel/), serialized by a lock, so only the first
# guest of a host boot pays the probe. Needs hil_load_state first.
hil_accel() {
    local want="${HIL_ACCEL:-auto}" key dir file probe s=0
    case "$want" in
        tcg) HIL_ACCEL_USED=tcg HIL_ACCEL_ARGS="-accel tcg" HIL_ACCEL_WHY="HIL_ACCEL=tcg"; return 0 ;;
        kvm | auto) ;;
        *) hil_die "HIL_ACCEL is '$want': tcg, kvm or auto" ;;
    esac
    dir="$HIL_CACHE/accel"; mkdir -p "$dir"
    key="$(printf '%s %s %s' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" "$HIL_VMLINUX" \
        "$(qemu-system-x86_64 --version | head -1)" | md5sum | cut -c1-16)"
    file="$dir/$key"
    (
        flock 8
        [ -s "$file" ] && exit 0
        if ! { exec 7<>/dev/kvm; } 2>/dev/null; then
            echo "tcg /dev/kvm cannot be opened read-write" >"$file"; exit 0
        fi
        exec 7>&-
        # KVM in hardware needs VT-x or AMD-V: without them this /dev/kvm is a software layer (kvm_pvm
        # here, which runs only PVM-built guest kernels); no probe needed, and none paid for.
        if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
            echo "tcg /dev/kvm opens, but the CPU has no vmx/svm flag: a KVM without hardware virtualization$( [ -d /sys/module/kvm_pvm ] && echo ' (kvm_pvm: PVM-built guest kernels only)')" >"$file"
            exit 0
        fi
        probe="$(mktemp -d "${TMPDIR:-/tmp}/hil-kvm-probe.XXXXXX")"
        timeout -k 2 "${HIL_KVM_PROBE_SECS:-10}" qemu-system-x86_64 -accel kvm -cpu host -smp 1 -m 256 -M pc \
            -nodefaults -nographic -no-reboot -chardev "file,id=c,path=$probe/console" -serial chardev:c \
            -kernel "$HIL_VMLINUX" -append "console=ttyS0 panic=-1 mitigations=off" \
            </dev/null >/dev/null 2>"$probe/stderr" || s=$?
        if grep -aq "Linux version" "$probe/console" 2>/dev/null && grep -aq "Kernel panic" "$probe/console"; then
            echo "kvm a probe boot under /dev/kvm reached the kernel's panic and powered off (qemu status $s)" >"$file"
        elif [ "$s" = 124 ] || [ "$s" = 137 ]; then
            echo "tcg a probe boot under /dev/kvm printed no kernel line within ${HIL_KVM_PROBE_SECS:-10} s (a KVM that cannot run this kernel, e.g. kvm_pvm)" >"$file"
        else
            echo "tcg a probe boot under /dev/kvm failed (qemu status $s: $(tr '\n' ' ' <"$probe/stderr" | cut -c1-200))" >"$file"
        fi
        rm -rf "$probe"
    ) 8>"$dir/.lock"
    read -r HIL_ACCEL_USED HIL_ACCEL_WHY <"$file"
    if [ "$want" = kvm ] && [ "$HIL_ACCEL_USED" != kvm ]; then hil_die "HIL_ACCEL=kvm, but KVM does not work here: $HIL_ACCEL_WHY"; fi
    case "$HIL_ACCEL_USED" in
        kvm) HIL_ACCEL_ARGS="-accel kvm -cpu host" ;;
        *) HIL_ACCEL_ARGS="-accel tcg" ;;
    esac
}
