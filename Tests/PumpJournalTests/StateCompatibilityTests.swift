import Foundation
import Testing
@testable import PumpCore

@Suite("Saved controller states")
struct StateCompatibilityTests {
    @Test("a state saved before the empty switch and interruption tracking existed loads with no switch and no interruption")
    func stateWithoutNewFields() throws {
        var c = try PumpController(profile: .bench20)
        _ = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: Concentration(microgramsPerMillilitre: 500))), at: .zero)
        let data = try JSONEncoder().encode(c)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var profile = try #require(object["profile"] as? [String: Any])
        #expect(profile["hasEmptySwitch"] as? Bool == false)
        profile.removeValue(forKey: "hasEmptySwitch")
        object["profile"] = profile
        for key in ["interruption", "confirmationHold", "emptySwitchEvidenceSince"] { #expect(object[key] == nil) }
        let old = try JSONSerialization.data(withJSONObject: object)
        let loaded = try JSONDecoder().decode(PumpController.self, from: old)
        #expect(loaded == c && !loaded.profile.hasEmptySwitch && loaded.interruption == nil)
    }
}
