/// A JSON value read by `JSONReader`, keeping what a strict reader must not lose: members in the order they
/// were written (duplicates included, so a caller can refuse them) and numbers as written.
public enum JSONNode: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text as written (`-12`, `3.5e2`), so integers keep every digit.
    case number(String)
    case string(String)
    case array([JSONNode])
    case object(JSONObject)

    /// The value's kind.
    public var kind: JSONDocument.Kind {
        switch self {
        case .null: .null
        case .bool: .bool
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    /// A short description of the value's kind for error messages; never the value itself.
    public var kindDescription: String { kind.description }
}
