# shellcheck shell=sh
# itpump run --backend gpiod on a gpio-sim chip: bring-up, status, occlusion, SIGTERM.
. "$HIL_GUEST_LIB/guest-gpiosim.sh"
gpiosim_create hil-gpio-sim STEP DIR ENABLE BUZZER LED_LOW LED_MEDIUM LED_HIGH OCCLUSION RESERVOIR_EMPTY STROKE_FEEDBACK || exit 10
gpiosim_linemap hil-gpio-sim > "$HIL_OUT/lines.txt"
grep -v strokeFeedback /payload/hil-gpio-sim.yaml > /tmp/rig.yaml
gpiotrace_start hil-gpio-sim 32768
export LD_LIBRARY_PATH=/payload/v1/lib
/payload/v1/bin/itpump run --backend gpiod --rig /tmp/rig.yaml --prescription /payload/spinal-600.yaml \
  --time-scale "$SCALE" --socket /tmp/ctl/c.sock --state "$HIL_OUT/state.json" >"$HIL_OUT/run.out" 2>"$HIL_OUT/run.err" &
PID=$!
sleep "$WAIT1"
/payload/v1/bin/itpump ctl --socket /tmp/ctl/c.sock status > "$HIL_OUT/status1.json"; echo "ctl1 $?" >> "$HIL_OUT/rc.txt"
echo "enable-during-run $(gpiosim_value hil-gpio-sim ENABLE)" >> "$HIL_OUT/rc.txt"
gpiosim_pull hil-gpio-sim OCCLUSION up
sleep 3
/payload/v1/bin/itpump ctl --socket /tmp/ctl/c.sock status > "$HIL_OUT/status2.json"; echo "ctl2 $?" >> "$HIL_OUT/rc.txt"
/payload/v1/bin/itpump ctl --socket /tmp/ctl/c.sock program ug_per_day=700 > "$HIL_OUT/refused.json"; echo "ctl3 $?" >> "$HIL_OUT/rc.txt"
kill -TERM $PID
wait $PID; echo "run-exit $?" >> "$HIL_OUT/rc.txt"
gpiotrace_stop "$HIL_OUT/trace.txt"; echo "trace $?" >> "$HIL_OUT/rc.txt"
ls -la "$HIL_OUT" >> "$HIL_OUT/rc.txt"
exit 0
