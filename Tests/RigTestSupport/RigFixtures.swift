import Foundation

/// A valid rig (the shape of profiles/rigs/hil-gpio-sim.yaml), edited per test.
public let validRigYAML = """
kind: rig
name: test rig
chip: hil-gpio-sim
driver: a4988
stepper:
  stepsPerStroke: 8
  pulseWidth: 10us
  stepRate: 1000
  dirSetup: 10us
  enableSetup: 2ms
outputs:
  step: STEP
  dir: DIR
  enable: { line: ENABLE, activeLow: true }
  buzzer: BUZZER
  ledLow: LED_LOW
  ledMedium: LED_MEDIUM
  ledHigh: LED_HIGH
inputs:
  occlusion: { line: OCCLUSION, activeLow: true, bias: pull-up }
  reservoirEmpty: RESERVOIR_EMPTY
  strokeFeedback: STROKE_FEEDBACK
"""

/// `validRigYAML` with `old` replaced by `new` (`old` must be in it).
public func rig(replacing old: String, with new: String) -> String {
    precondition(validRigYAML.contains(old), "fixture lacks \(old)")
    return validRigYAML.replacingOccurrences(of: old, with: new)
}
