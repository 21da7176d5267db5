/// What the destination said, in the few kinds the upload engine acts on differently.
public struct DestinationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The destination's own code (`TOO_MANY_REQUESTS`, `40100`), or the transport's (`timeout`, `connection`).
    public var code: String
    public var message: String
    /// The HTTP status, when an answer arrived.
    public var httpStatus: Int?

    public init(code: String, message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    public var description: String { httpStatus.map { "\(code) (HTTP \($0)): \(message)" } ?? "\(code): \(message)" }
}

/// An item of a request the destination refused, by its index among the users sent.
public struct RefusedItem: Sendable, Equatable {
    public var index: Int
    public var code: String
    public var message: String

    public init(index: Int, code: String, message: String) {
        self.index = index
        self.code = code
        self.message = message
    }
}

/// Text a destination chose (error codes and messages) is cut where it is read, before it goes anywhere: it is
/// copied into results, dead letters and logs, and an answer naming a megabyte of codes must not make those
/// records too large to write, which would stop the uploader on the same batch at every restart. The
/// uploader's own messages are not cut.
enum DestinationText {
    /// Real codes are short words or numbers (`INVALID_USER_DATA`, `40002`).
    static let maxCodeScalars = 64
    static let maxMessageScalars = 300

    /// A code the destination chose (a string or a number), cut; nil when it gave none.
    static func code(_ value: Any?) -> String? {
        if let text = value as? String, !text.isEmpty { return bounded(text, to: maxCodeScalars) }
        return ResponseJSON.int(value).map(String.init)
    }

    /// A message the destination chose, cut; empty when it gave none.
    static func message(_ value: Any?) -> String {
        bounded(value as? String ?? "", to: maxMessageScalars)
    }

    /// `text` cut to its first `limit` Unicode scalars (at most four bytes each), marked with `…` when cut.
    static func bounded(_ text: String, to limit: Int) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        var cut = String.UnicodeScalarView()
        cut.append(contentsOf: scalars.prefix(limit - 1))
        cut.append("…")
        return String(cut)
    }
}

/// The outcome of one destination call, whatever the destination: every answer is read to the end and
/// sorted into one of these.
public enum DestinationOutcome<Value: Sendable>: Sendable {
    /// Everything was taken.
    case done(Value)
    /// Taken except `refused`, which will never be taken as sent (dead-letter them, count the rest done).
    case partial(Value, refused: [RefusedItem])
    /// Nothing certain happened; the same request may be sent again, after `after` if the server named a time.
    case retriable(DestinationFailure, after: Duration?)
    /// The request will never succeed as it is.
    case permanent(DestinationFailure)
    /// The credential is expired or revoked: nothing of this connection can succeed until it is replaced.
    case credentialRevoked(DestinationFailure)
}

extension DestinationOutcome {
    /// The value of `done` or `partial`.
    public var value: Value? {
        switch self {
        case .done(let value), .partial(let value, _): value
        case .retriable, .permanent, .credentialRevoked: nil
        }
    }

    /// The same failure for a call of another value type; nil for `done` and `partial`.
    public func failure<Other>(as: Other.Type = Other.self) -> DestinationOutcome<Other>? {
        switch self {
        case .done, .partial: nil
        case .retriable(let failure, let after): .retriable(failure, after: after)
        case .permanent(let failure): .permanent(failure)
        case .credentialRevoked(let failure): .credentialRevoked(failure)
        }
    }
}
