import FileFuzzing
import Foundation
import ITPumpFiles
import Testing

/// One deliberately bad document: a shipped file with one edit that the loader refuses.
struct BadDocument: CustomTestStringConvertible, Sendable {
    var kind: String
    /// The shipped file edited (its name in `profiles/<kind>s/`).
    var base: String
    var old: String
    var new: String
    var why: String
    var testDescription: String { "\(kind) \(base): \(why)" }
}

/// The JSON Schemas in `schemas/files/` against the loaders they describe: the shipped files are valid
/// for both, the schemas' examples load, and documents the loader refuses are refused by the schema too.
@Suite("File schemas agree with the loaders")
struct SchemaTests {
    static let kinds = ["pump", "prescription", "scenario", "sweep"]

    /// What `itpump validate` reports for `path` (empty: the loader accepts it).
    static func loaderDiagnostics(_ path: String) -> [Diagnostic] { FileKinds.validate(path: path) }

    @Test("every shipped file validates against its kind's schema (scripts/check-schema)", arguments: kinds)
    func shippedFilesValidate(kind: String) throws {
        let files = try FileSchemas.shippedFiles(kind: kind)
        try #require(!files.isEmpty, "no shipped \(kind) files")
        let r = try FileSchemas.check(kind: kind, files: files)
        #expect(r.status == 0, "scripts/check-schema \(kind): exit \(r.status)\n\(r.output)")
    }

    @Test("every shipped file starts with the yaml-language-server line naming its schema, and the loader reads it", arguments: kinds)
    func shippedFilesNameTheirSchema(kind: String) throws {
        for path in try FileSchemas.shippedFiles(kind: kind) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let first = text.split(separator: "\n", maxSplits: 1).first.map(String.init)
            #expect(first == FileSchemas.modeline(kind: kind), "\(path): first line \(first ?? "")")
            // The modeline's relative path leads to the schema from the file's folder.
            let target = URL(fileURLWithPath: path).deletingLastPathComponent()
                .appendingPathComponent("../../schemas/files/\(kind).schema.json").standardized.path
            #expect(target == URL(fileURLWithPath: FileSchemas.schemaPath(kind: kind)).standardized.path)
            #expect(Self.loaderDiagnostics(path) == [], "\(path)")
        }
    }

    @Test("the loader accepts every example of the schema, and the schema accepts them too", arguments: kinds)
    func examplesLoad(kind: String) throws {
        let scratch = try FileSchemas.scratchProfiles("examples-\(kind)")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let examples = try FileSchemas.examples(kind: kind)
        #expect(examples.count >= 2, "a minimal and a full example")
        var paths: [String] = []
        for (i, text) in examples.enumerated() {
            let path = try FileSchemas.write(text, kind: kind, name: "example-\(i)", in: scratch)
            paths.append(path)
            #expect(Self.loaderDiagnostics(path) == [], "example \(i) of \(kind):\n\(text)")
        }
        // The kind's own loader, as `simulate`, `sweep` and `run` call it.
        for path in paths {
            switch kind {
            case "pump": #expect(throws: Never.self) { _ = try PumpFile.load(path: path) }
            case "prescription": #expect(throws: Never.self) { _ = try PrescriptionFile.load(path: path) }
            case "scenario": #expect(throws: Never.self) { _ = try ScenarioFile.load(path: path) }
            default: #expect(throws: Never.self) { _ = try SweepFile.load(path: path) }
            }
        }
        let r = try FileSchemas.check(kind: kind, files: paths)
        #expect(r.status == 0, "\(r.output)")
    }

    @Test("every example in profiles/README.md loads and passes its schema", arguments: kinds)
    func referenceExamplesLoad(kind: String) throws {
        let examples = try FileSchemas.referenceExamples().filter { $0.kind == kind }
        #expect(examples.count >= 2, "profiles/README.md shows a minimal and a full \(kind) file")
        let scratch = try FileSchemas.scratchProfiles("reference-\(kind)")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var paths: [String] = []
        for (i, e) in examples.enumerated() {
            let path = try FileSchemas.write(e.text, kind: kind, name: "reference-\(i)", in: scratch)
            paths.append(path)
            #expect(Self.loaderDiagnostics(path) == [], "profiles/README.md example:\n\(e.text)")
        }
        let r = try FileSchemas.check(kind: kind, files: paths)
        #expect(r.status == 0, "\(r.output)")
    }

    /// Out-of-range values, unknown fields, unknown action and fault kinds, bad durations: each refused by
    /// the loader, and each must be refused by the schema (a schema that accepts anything fails here).
    static let bad: [BadDocument] = [
        // pump
        .init(kind: "pump", base: "bench20.yaml", old: "strokeVolume: 0.25 uL", new: "strokeVolume: 20 uL", why: "stroke volume above 10 uL"),
        .init(kind: "pump", base: "bench20.yaml", old: "strokeVolume: 0.25 uL", new: "strokeVolume: 0.2505 uL", why: "finer than 1 nL"),
        .init(kind: "pump", base: "bench20.yaml", old: "reservoirCapacity: 20 mL", new: "reservoirCapacity: 30 mL", why: "not a reservoir size"),
        .init(kind: "pump", base: "bench20.yaml", old: "bolusRate: 16667 nL/min", new: "bolusRate: 16667 nL/h", why: "unknown unit"),
        .init(kind: "pump", base: "bench20.yaml", old: "catheterLength: 110 cm", new: "catheterLength: 400 cm", why: "catheter over 1 mL"),
        .init(kind: "pump", base: "bench20.yaml", old: "catheterLength: 110 cm", new: "catheterLength: 110 cm\ncatheterVolume: 0.286 mL", why: "length and volume"),
        .init(kind: "pump", base: "bench20.yaml", old: "strokeVolume:", new: "strokeVolumes:", why: "unknown field (and a missing one)"),
        .init(kind: "pump", base: "bench20.yaml", old: "minimumPatencyRate: 0.048 mL/day", new: "minimumPatencyRate: -0.048 mL/day", why: "negative"),
        .init(kind: "pump", base: "bench20.yaml", old: "occlusionDetectionStrokes: 40", new: "occlusionDetectionStrokes: 0", why: "detection strokes below 1"),
        .init(kind: "pump", base: "bench20.yaml", old: "occlusionDetectionStrokes: 40", new: "occlusionDetectionStrokes: 2.5", why: "detection strokes not whole"),
        .init(kind: "pump", base: "bench20.yaml", old: "stallDetectionStrokes: 3", new: "stallDetectionStrokes: 1001", why: "stall detection strokes above 1000"),
        .init(kind: "pump", base: "bench20.yaml", old: "minimumPatencyRate: 0.048 mL/day", new: "minimumPatencyRate: 0.048 mL/day\nemptySwitch: yes",
              why: "`yes` is not a boolean (YAML 1.2)"),
        .init(kind: "pump", base: "bench20.yaml", old: "minimumPatencyRate: 0.048 mL/day", new: "minimumPatencyRate: 0.048 mL/day\ndescription: \"\"",
              why: "an empty description"),
        // prescription
        .init(kind: "prescription", base: "spinal-600.yaml", old: "refillLeadTime: 7d", new: "refillLeadTime: 1.5d12h", why: "decimals in a compound duration"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "continuous: 600 ug/day", new: "continuous: 600 ug/day\ndescription: [a, b]",
              why: "a description that is not text"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "continuous: 600 ug/day", new: "continuous: 1300 ug/day", why: "dose above 1200 ug/day"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "continuous: 600 ug/day", new: "continuous: 0.04 mg/day", why: "dose below 50 ug/day"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "concentration: 500 ug/mL", new: "concentration: 750 ug/mL", why: "not a therapy concentration"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "patientGroup: spinal", new: "patientGroup: adult", why: "unknown patient group"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "reservoirPolicy:", new: "reservoirPolicyy:", why: "unknown settings field"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "refillLeadTime: 7d", new: "refillLeadTime: 7 days", why: "bad duration"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "refillLeadTime: 7d", new: "refillLeadTime: 31d", why: "lead time above 30d"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "refillLeadTime: 7d", new: "refillLeadTime: 12h7d", why: "duration units out of order"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "clockAtStart: \"08:00\"", new: "clockAtStart: \"24:00\"", why: "no such time of day"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "lowReservoirThreshold: 4 mL", new: "lowReservoirThreshold: 9 mL", why: "threshold above 8 mL"),
        .init(kind: "prescription", base: "cerebral-flex.yaml", old: "maximumFlexSteps: 13", new: "maximumFlexSteps: 13\n  titrationIncreaseLimit: 20%",
              why: "cerebral increase above 15 %"),
        .init(kind: "prescription", base: "cerebral-flex.yaml", old: "rate: 240 ug/day", new: "rate: 2400 ug/day", why: "flex step dose above 1200 ug/day"),
        .init(kind: "prescription", base: "cerebral-flex.yaml", old: "maximumFlexSteps: 13", new: "maximumFlexSteps: 25", why: "more than 24 flex steps"),
        .init(kind: "prescription", base: "spinal-600.yaml", old: "continuous: 600 ug/day", new: "continuous: 600 ug/day\n  flex: [{start: \"00:00\", rate: 600 ug/day}]",
              why: "continuous and flex"),
        // scenario
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "{at: 5d, stop: {taperDays: 14}}", new: "{at: 5d, explode: {}}", why: "unknown action kind"),
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "{at: 5d, stop: {taperDays: 14}}", new: "{at: 5d, stop: {taperDays: 14}, resume: {}}", why: "two actions in one entry"),
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "{at: 5d, stop: {taperDays: 14}}", new: "{at: 5d}", why: "no action"),
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "taperDays: 14", new: "taperDays: 400", why: "taper over a year"),
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "{at: 5d, stop: {taperDays: 14}}", new: "{at: 5d, resume: {now: true}}", why: "resume takes no field"),
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "at: 5d", new: "at: 5 days", why: "bad instant"),
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "refill: {volume: 20 mL}", new: "refill: {volume: 50 mL}", why: "refill over 40 mL"),
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "refill: {volume: 20 mL}", new: "refill: {volume: 20 mL, withdrawn: 1 mL, entry: none}", why: "withdrawn beside entry"),
        .init(kind: "scenario", base: "taper-to-stop.yaml", old: "refill: {volume: 20 mL}", new: "refill: {volume: 20 mL, entry: nothing}", why: "entry neither none nor a mapping"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "acknowledge: occlusion", new: "acknowledge: fire", why: "unknown alarm kind"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "kind: occlusion,", new: "kind: fire,", why: "unknown fault kind"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "kind: occlusion,", new: "kind: occlusion, fraction: 10%,", why: "fraction on a non-leak fault"),
        .init(kind: "scenario", base: "catheter-leak.yaml", old: "fraction: 60%, ", new: "", why: "leak without a fraction"),
        .init(kind: "scenario", base: "catheter-leak.yaml", old: "fraction: 60%", new: "fraction: 160%", why: "leak over 100 %"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "duration: 10d", new: "duration: 10 days", why: "bad duration"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "duration: 10d", new: "duration: 30m", why: "duration under 1h"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "duration: 10d", new: "duration: 10d\ninterval: 7h", why: "interval over 6h"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "mechanics: {occlusionTripStrokes: 40}", new: "mechanics: {occlusionTripStrokes: 0}", why: "trip strokes below 1"),
        .init(kind: "scenario", base: "refill-discrepancy.yaml", old: "calibrationBias: 20%", new: "calibrationBias: -60%", why: "bias below -50 %"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "duration: 10d", new: "duration: 10d\npk: {distributionVolume: 200 mL}", why: "distribution volume above 157 mL"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "pump: bench20", new: "pump: bench30", why: "unknown built-in pump"),
        .init(kind: "scenario", base: "occlusion.yaml", old: "duration: 10d", new: "duration: 10d\nseed: 3", why: "unknown field"),
        // sweep
        .init(kind: "sweep", base: "late-refills-small.yaml", old: "dailyDose: 600 ug/day", new: "dailyDose: 1500 ug/day", why: "dose above 1200 ug/day"),
        .init(kind: "sweep", base: "refill-lapse.yaml", old: "[300 ug/day, 800 ug/day]", new: "[30 ug/day, 800 ug/day]", why: "uniform bound below 50 ug/day"),
        .init(kind: "sweep", base: "late-refills-small.yaml", old: "runs: 200", new: "runs: 0", why: "no runs"),
        .init(kind: "sweep", base: "late-refills-small.yaml", old: "reservoir: 20 mL", new: "reservoir: 30 mL", why: "not a reservoir size"),
        .init(kind: "sweep", base: "refill-lapse.yaml", old: "concentration: {choice:", new: "concentration: {uniform:", why: "uniform concentration"),
        .init(kind: "sweep", base: "late-refills-small.yaml", old: "alarmPolicy: {choice: [alarmOnly, reserveTaper]}", new: "alarmPolicy: sometimes", why: "unknown policy"),
        .init(kind: "sweep", base: "late-refills-small.yaml", old: "[0d, 14d]", new: "[0d, 90d]", why: "delay beyond 60d"),
        .init(kind: "sweep", base: "late-refills-small.yaml", old: "duration: 90d", new: "duration: 90 days", why: "bad duration"),
        .init(kind: "sweep", base: "late-refills-small.yaml", old: "runs: 200", new: "runs: 200\njobs: 2", why: "unknown field"),
    ]

    @Test("documents the loader refuses are refused by the schema too; their unedited bases pass both", arguments: kinds)
    func rejectionsAgree(kind: String) throws {
        let cases = Self.bad.filter { $0.kind == kind }
        try #require(cases.count >= 5)
        let scratch = try FileSchemas.scratchProfiles("bad-\(kind)")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var bases = Set<String>()
        var paths: [(BadDocument, String)] = []
        for (i, c) in cases.enumerated() {
            let original = try String(contentsOfFile: "\(FileSchemas.profileFolder(kind: kind))/\(c.base)", encoding: .utf8)
            try #require(original.contains(c.old), "\(c.base) has no `\(c.old)`")
            bases.insert(c.base)
            let path = try FileSchemas.write(original.replacingOccurrences(of: c.old, with: c.new), kind: kind, name: "bad-\(i)", in: scratch)
            #expect(!Self.loaderDiagnostics(path).isEmpty, "the loader accepts \(c.testDescription)")
            paths.append((c, path))
        }
        // Anti-vacuity: each base, unedited, is accepted by both.
        let basePaths = bases.sorted().map { "\(FileSchemas.profileFolder(kind: kind))/\($0)" }
        for p in basePaths { #expect(Self.loaderDiagnostics(p) == [], "\(p)") }
        #expect(try FileSchemas.check(kind: kind, files: basePaths).status == 0)
        let r = try FileSchemas.check(kind: kind, files: paths.map(\.1))
        #expect(r.status == 1, "check-schema exit \(r.status): \(r.output)")
        for (c, path) in paths {
            let refused = r.output.contains("\(path): ")
            #expect(refused, "the schema accepts \(c.testDescription)")
        }
    }

    @Test("the schemas are what scripts/gen-file-schemas makes, and its range patterns agree with a model of the loaders' number readers")
    func generatorIsTheSource() throws {
        let check = try FileSchemas.run("\(FileSchemas.root)/scripts/gen-file-schemas", ["--check"])
        #expect(check.status == 0, "\(check.output)")
        let selfTest = try FileSchemas.run("\(FileSchemas.root)/scripts/gen-file-schemas", ["--self-test"])
        #expect(selfTest.status == 0 && selfTest.output.contains("self-test: ok"), "\(selfTest.output)")
    }

    @Test("every kind ITPumpFiles reads has a schema whose kind is that kind")
    func everyKindHasASchema() throws {
        for kind in FileKinds.all {
            let path = FileSchemas.schemaPath(kind: kind.name)
            try #require(FileManager.default.fileExists(atPath: path), "no schema for `kind: \(kind.name)`: add it to scripts/gen-file-schemas")
            let schema = try FileSchemas.schema(kind: kind.name)
            #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
            let k = (schema["properties"] as? [String: Any])?["kind"] as? [String: Any]
            #expect(k?["const"] as? String == kind.name)
            #expect((schema["required"] as? [String])?.contains("kind") == true)
        }
    }
}
