/// The program's version, written by `itpump --version` and into every report (JSON, CSV, HTML) so a
/// result can be traced to the code that produced it. Raise it with any change to what a run computes.
public enum ITPumpVersion {
    public static let current = "0.9.0"
}
