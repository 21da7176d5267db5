import Hashing
import Wire

/// One identifier after the destination's rules: the text that was hashed and its SHA-256 digest.
public struct NormalizedIdentifier: Sendable, Hashable {
    public let kind: IdentifierType
    /// The normalized text that was hashed, or nil when the input already was a digest.
    public let normalized: String?
    public let digest: SHA256Digest

    public init(kind: IdentifierType, normalized: String?, digest: SHA256Digest) {
        self.kind = kind
        self.normalized = normalized
        self.digest = digest
    }
}
