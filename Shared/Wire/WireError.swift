/// A record that does not decode as the expected protobuf message.
///
/// Never retriable: the same bytes fail the same way. Stages send such records to the DLQ with the code.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable error codes.
    public enum Code: String, Sendable {
        /// The bytes end inside a field.
        case truncated
        /// A varint longer than 10 bytes.
        case malformedVarint = "malformed-varint"
        /// A field arrived with a wire type its declaration does not allow, or a group (unsupported).
        case wrongWireType = "wrong-wire-type"
        /// A string field is not valid UTF-8.
        case invalidUTF8 = "invalid-utf8"
        /// A oneof envelope carried none of its bodies.
        case missingBody = "missing-body"
        /// A field number of 0 or a tag that cannot be.
        case invalidTag = "invalid-tag"
    }

    public let code: Code
    /// What was being read, for example `MemberChange.audience_id`.
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var isRetriable: Bool { false }

    public var description: String {
        "wire \(code.rawValue): \(message); the record is not a valid cohortsync.v1 message (check the producer's schema version)"
    }
}
