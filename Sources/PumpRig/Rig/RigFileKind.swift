import ITPumpFiles

extension FileKind {
    /// `kind: rig` for `itpump validate`: checked by `RigFile.check(yaml:file:)`, the loader `itpump run`
    /// uses, so validation and loading cannot disagree. ITPumpFiles does not list it in `FileKinds.all`
    /// (it must not depend on the GPIO side); callers pass `FileKinds.all + [.rig]`.
    public static let rig = FileKind(name: "rig", summary: "a bench rig: stepper driver, timing, GPIO lines per role (RigDescription)") {
        text, file in
        RigFile.check(yaml: text, file: file)
    }
}
