/// A key that appears more than once in one object.
public struct JSONDuplicateKey: Error, Sendable, Equatable {
    /// The key as written; callers decide whether it may be shown (it can be data).
    public let key: String
}
