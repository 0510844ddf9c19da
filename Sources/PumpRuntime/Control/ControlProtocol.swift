/// The control protocol's version, sent as `"protocol"` in every reply (and event).
///
/// Compatibility rule: additive changes (a new request, a new optional field, a new reply or status
/// key, a new event) keep the number; a change that makes a valid request invalid, changes a field's
/// meaning or unit, or removes or renames a reply key raises it. Clients ignore keys they do not know.
public enum ControlProtocol {
    /// The version of the protocol this build speaks.
    public static let version: Int64 = 1

    /// One reply line: `fields` plus `"protocol": version`, compact JSON, sorted keys, no newline.
    public static func reply(_ fields: [String: JSONValue]) -> String {
        var o = fields
        o["protocol"] = .int(version)
        return JSONValue.object(o).line
    }
}
