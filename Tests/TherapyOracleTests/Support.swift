import Foundation
import FuzzTargets
@testable import TherapyOracle

/// The repository's files the tests read: the committed seed corpus and the known-failing list.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The invariants `Fuzz/known-failing` turns off (a known defect being fixed elsewhere).
    static var knownFailing: Set<Invariant> {
        let text = (try? String(contentsOf: root.appendingPathComponent("Fuzz/known-failing"), encoding: .utf8)) ?? ""
        return (try? Invariant.parseList(text)) ?? []
    }

    /// The seed inputs of `target`, by file name.
    static func corpus(_ target: FuzzTarget) -> [(name: String, bytes: [UInt8])] {
        let dir = root.appendingPathComponent("Fuzz/corpus/\(target.rawValue)")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        return names.compactMap { n in
            FileManager.default.contents(atPath: dir.appendingPathComponent(n).path).map { (n, Array($0)) }
        }
    }
}
