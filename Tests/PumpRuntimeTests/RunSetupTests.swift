import Foundation
import Testing
import PumpRig
@testable import PumpRuntime
@testable import PumpRuntime
import RigTestSupport

@Suite struct RunSetupTests {
    /// This machine has no GPIO chip: the runner's set-up wraps the rig driver's typed GPIOError in
    /// its own, naming what failed; a time scale of 0 is refused before any line is taken.
    @Test func noChipIsARunSetupError() throws {
        guard !FileManager.default.fileExists(atPath: "/dev/gpiochip0") else { return }
        let rig = try RigFile.parse(yaml: validRigYAML, file: "t")
        #expect {
            _ = try Runner.gpiod(rig: rig, prescription: nil, timeScale: 1, logger: .init(label: "t"))
        } throws: { e in
            if let s = e as? RunSetupError, case .gpio = s { return "\(s)".hasPrefix("cannot take the rig's lines") }
            return false
        }
        #expect(throws: RunSetupError.self) { _ = try Runner.gpiod(rig: rig, prescription: nil, timeScale: 0, logger: .init(label: "t")) }
    }
}
