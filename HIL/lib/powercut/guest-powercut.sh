# shellcheck shell=sh
# Guest side of HIL/power-cut (busybox ash), run at every boot of the power-cut guest; the host cuts the
# power (SIGKILL of qemu) at a seeded moment and boots again on the same disks. Disks: /dev/vda the
# harness's output disk, /dev/vdb the journal disk (ext4, read-write), /dev/vdc the system disk (ext4,
# read-only: itpump, its libraries, the rig and the prescription). Ports (virtio-serial, the host reads
# them live): itpump.truth gets 8 bytes per stroke the simulated pump performs (`--sim-stroke-log`);
# itpump.events gets one text line per fact, each with one write(2):
#   BOOT n | VERIFY rc TEXT | HISTORY JSON | CHECKED | READY | ACK REQUEST REPLY | FINAL
# Boot parameters (kernel command line): hilcut=N (this boot's number), hilseed=S, hilscale=K,
# hilfinal=1 (check only, then end: the last boot after the last cut), hilnofsync=1 (see below).
param() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p"; }
CUT="$(param hilcut)"; SEED="$(param hilseed)"; SCALE="$(param hilscale)"; FINAL="$(param hilfinal)"
# hilnofsync=1: the anti-vacuity run, the runner under libeatmydata (its fsyncs do nothing).
PRELOAD=; [ "$(param hilnofsync)" = 1 ] && PRELOAD=/mnt/sys/lib/libeatmydata.so
port() { for d in /sys/class/virtio-ports/*; do [ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && echo "/dev/$(basename "$d")"; done; }
EV="$(port itpump.events)"; TRUTH="$(port itpump.truth)"
[ -c "$EV" ] && [ -c "$TRUTH" ] || { echo "power-cut: no virtio-serial ports (events '$EV', truth '$TRUTH')"; exit 3; }
say() { printf '%s\n' "$*" > "$EV"; }
say "BOOT $CUT $(cut -d' ' -f1 /proc/uptime)"
mkdir -p /mnt/sys /mnt/j
mount -t ext4 -o ro /dev/vdc /mnt/sys || { say "FAIL mount system disk"; exit 3; }
# The journal's file system as a board mounts it after a power loss: ext4's own journal replayed.
mount -t ext4 /dev/vdb /mnt/j || { say "FAIL mount journal disk"; exit 3; }
export LD_LIBRARY_PATH=/mnt/sys/lib
ITP=/mnt/sys/bin/itpump
J=/mnt/j/pump.journal
SOCK=/tmp/pc/c.sock
if [ -e "$J" ]; then
    out="$("$ITP" journal verify "$J" 2>&1)"; rc=$?
    say "VERIFY $rc $(printf '%s' "$out" | tr '\n' ' ')"
    say "HISTORY $("$ITP" history --journal "$J" --format json 2>&1 | tr -d '\n')"
    create=
else
    create=--create-journal
fi
say "CHECKED $(cut -d' ' -f1 /proc/uptime)"
if [ "$FINAL" = 1 ]; then
    cp "$J" "$J-wal" "$HIL_OUT/" 2>/dev/null
    say FINAL
    exit 0
fi
mkdir -p /tmp/pc && chmod 700 /tmp/pc
# shellcheck disable=SC2086 # $create is empty or one word
LD_PRELOAD="$PRELOAD" "$ITP" run --backend sim --rig /mnt/sys/hil-gpio-sim.yaml --prescription /mnt/sys/rx.yaml --time-scale "$SCALE" \
    --socket "$SOCK" --journal "$J" $create --strokes-per-step 16 --sim-stroke-log "$TRUTH" --log-level notice \
    > /dev/console 2>&1 &
ctl() { "$ITP" ctl --socket "$SOCK" "$@" 2>&1; }
until ctl status > /tmp/status.json; do sleep 0.1; done
until grep -q '"phase":"running' /tmp/status.json; do sleep 0.2; ctl status > /tmp/status.json; done
say "READY $(cut -d' ' -f1 /proc/uptime)"
# Seeded control traffic (accepted and refused alike are acknowledged commands); the host cuts meanwhile.
set -- '{"cmd":"acknowledge","alarm":"therapyInterruption"}' '{"cmd":"program","ug_per_day":540}' \
    '{"cmd":"program","ug_per_day":600}' '{"cmd":"program","ug_per_day":660}' '{"cmd":"program","ug_per_day":54000}' \
    '{"cmd":"bolus","ug":50}' '{"cmd":"resume"}'
# First, confirm the rate: a restart after more than 24 h of (scaled) downtime holds delivery at the
# 50 μg/day floor until a clinician confirms the programmed dose (refused when not needed; acknowledged
# either way). The traffic has no `stop`: a taper's doses are not whole μg/day, so it could not be confirmed.
ng="$(sed -n 's/.*"programmed_ng_per_day":\([0-9]*\).*/\1/p' /tmp/status.json)"
req="{\"cmd\":\"confirm_resumption\",\"ug_per_day\":$(( ${ng:-600000} / 1000 ))}"
say "ACK $req $(ctl --json "$req" | tr -d '\n')"
k=0
while :; do
    k=$((k + 1))
    pick=$(awk -v s="$SEED" -v c="$CUT" -v k="$k" -v n="$#" 'BEGIN { srand(s * 7919 + c * 101 + k); printf "%d %d", 1 + int(rand() * n), int(rand() * 400) }')
    i=${pick% *}; ms=${pick#* }
    eval "req=\${$i}"
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    reply="$(ctl --json "$req" | tr -d '\n')"
    say "ACK $req $reply"
done
