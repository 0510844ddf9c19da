import ArgumentParser
import ITPumpFiles
import PumpRig

/// `itpump validate FILE...`: checks pump, prescription, scenario, sweep and rig files and lists every
/// problem with its file, line, field, value and allowed range on standard error (`FILE: ok` lines on
/// standard output). Exit status 1 if any file has one.
struct Validate: ParsableCommand {
    /// ITPumpFiles' own kinds, and the bench rig's `rig` files checked by PumpRig's loader (the one
    /// `itpump run --rig` uses).
    static let kinds = FileKinds.all + [.rig]

    static let configuration = CommandConfiguration(
        abstract: "Check itpump YAML files (the kind is read from their `kind:` field) and list every error.",
        discussion: "Kinds: " + kinds.map { "\($0.name) (\($0.summary))" }.joined(separator: "; "))

    @Argument(help: "Files to check.", completion: .file(extensions: ["yaml", "yml"]))
    var files: [String]

    func run() throws {
        var failed = 0
        for file in files {
            let diagnostics = FileKinds.validate(path: file, kinds: Self.kinds)
            if diagnostics.isEmpty {
                print("\(file): ok")
            } else {
                failed += 1
                for d in diagnostics { printError(d.description) }
            }
        }
        if failed > 0 {
            printError("\(failed) of \(files.count) file\(files.count == 1 ? "" : "s") invalid")
            throw ExitCode(1)
        }
    }
}
