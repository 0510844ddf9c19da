# shellcheck shell=sh
# Guest side of HIL/watchdog (busybox ash); the guest boots twice: qemu runs with guest resets allowed.
# Boot 1: softdog with a MARGIN-second timeout, `itpump run --backend gpiod --watchdog /dev/watchdog` on a
# gpio-sim chip at 1200 μg/day (a stroke every 37.5 ms at 240×). The runner's kicks must keep the guest
# alive for 2 × MARGIN; then SIGSTOP hangs the runner, and softdog must reset the guest. Progress is
# written (fsync'd) to the output disk /dev/vda, so boot 2 knows what boot 1 reached.
# Boot 2 (after the reset): a fresh chip; the outputs must be at their safe levels (STEP, ENABLE, BUZZER
# low, no consumer). Console markers for the host: HIL-WD-RUNNING, HIL-WD-STOP <uptime s> ENABLE=v STEP=v,
# HIL-WD-LINES <uptime s> ENABLE=v STEP=v (while hung), then the kernel's "softdog: Initiating system reboot".
. "$HIL_GUEST_LIB/guest-gpiosim.sh"
P="${HIL_PAYLOAD:-/payload}"
MARGIN="${MARGIN:-5}"
CHIP=hil-gpio-sim
ROLES="STEP DIR ENABLE BUZZER LED_LOW LED_MEDIUM LED_HIGH OCCLUSION RESERVOIR_EMPTY STROKE_FEEDBACK"
ITP="$P/v1/bin/itpump"
export LD_LIBRARY_PATH="$P/v1/lib"
SOCK=/tmp/hil-ctl/c.sock
up() { cut -d' ' -f1 /proc/uptime; }
progress() { printf 'HIL-WD %s\n' "$*" | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; }
check() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$HIL_OUT/checks.txt"; echo "[watchdog] $1 $2 — $3"; }
state="$(dd if=/dev/vda bs=512 count=1 2>/dev/null | tr -d '\0' | sed -n 's/^HIL-WD //p')"

if [ -z "$state" ]; then
    # Boot 1.
    rmmod softdog 2>/dev/null
    insmod /hil/modules/softdog.ko soft_margin="$MARGIN" || { echo "cannot load softdog"; exit 3; }
    gpiosim_create "$CHIP" $ROLES || exit 3
    grep -v strokeFeedback "$P/hil-gpio-sim.yaml" > /tmp/rig.yaml
    progress "STARTED $(up)"
    "$ITP" run --backend gpiod --rig /tmp/rig.yaml --prescription "$P/rx-1200.yaml" --time-scale 240 \
        --socket "$SOCK" --watchdog /dev/watchdog > /dev/console 2>&1 &
    pid=$!
    end=$(( $(cut -d. -f1 /proc/uptime) + 120 ))
    until "$ITP" ctl --socket "$SOCK" status 2>/dev/null | grep -q '"phase":"running'; do
        [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ] || { echo "the runner did not reach therapy"; exit 1; }
        sleep 0.2
    done
    # The kicks of a healthy loop keep the guest alive for twice the watchdog's timeout.
    progress "RUNNING $(up)"
    echo "HIL-WD-RUNNING $(up)"
    sleep $((2 * MARGIN))
    kill -0 "$pid" || { echo "the runner ended early"; exit 1; }
    progress "SURVIVED $(up)"
    kill -STOP "$pid"
    t="$(up)"
    e="$(gpiosim_value "$CHIP" ENABLE)"; s="$(gpiosim_value "$CHIP" STEP)"
    progress "STOPPED $t ENABLE=$e STEP=$s"
    echo "HIL-WD-STOP $t ENABLE=$e STEP=$s"
    i=0
    while [ "$i" -lt $((6 * MARGIN)) ]; do
        sleep 0.5; i=$((i + 1))
        echo "HIL-WD-LINES $(up) ENABLE=$(gpiosim_value "$CHIP" ENABLE) STEP=$(gpiosim_value "$CHIP" STEP)"
    done
    progress "NOT-RESET $(up)"
    echo "the watchdog did not reset the guest within $((3 * MARGIN)) s of the hang"
    exit 1
fi

# Boot 2: what boot 1 reached, then the outputs on the board as it comes back from the reset.
echo "[watchdog] boot 1 reached: $state"
case "$state" in
    STOPPED*) check PASS "reset after the hang" "boot 1 reached: $state" ;;
    *) check FAIL "reset after the hang" "the guest reset before the runner was stopped (boot 1 reached: $state): the runner's kicks did not keep it alive" ;;
esac
gpiosim_create "$CHIP" $ROLES || exit 3
for r in STEP ENABLE BUZZER; do
    v="$(gpiosim_value "$CHIP" "$r")"
    [ "$v" = 0 ] && check PASS "safe after reset: $r" "0" || check FAIL "safe after reset: $r" "$v"
done
"$ITP" gpio info --chip "$CHIP" > "$HIL_OUT/lines-after-reset.txt" 2>&1
if grep -q "used by" "$HIL_OUT/lines-after-reset.txt"; then check FAIL "no line held after reset" "$(grep 'used by' "$HIL_OUT/lines-after-reset.txt" | head -3)"; else check PASS "no line held after reset" "every line free"; fi
grep -q '^FAIL' "$HIL_OUT/checks.txt" && exit 1
exit 0
