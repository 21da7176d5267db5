/// One outgoing HTTP request, as the destination clients build it.
public struct OutgoingRequest: Sendable {
    public var method: String
    /// The full URL, query included.
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// How long the whole exchange may take before it counts as a transient failure.
    public var timeout: Duration

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [], timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete answer: status, headers (names lowercased) and the whole body.
public struct IncomingResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A header's value by its name in any case.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why no answer arrived. Every case is transient from the caller's point of view: the request may or may
/// not have taken effect, so only idempotent requests (or ones whose repetition is harmless) are retried.
public enum TransportError: Error, Sendable, CustomStringConvertible {
    case timedOut(Duration)
    /// The connection failed or broke before a complete answer (refused, reset, dropped, DNS).
    case connection(String)
    /// The URL could not be parsed: a configuration error (`apiBaseURL`), not a transient one.
    case invalidURL(String)
    /// The calling task was cancelled (a revocation, a stop): no outcome, the request's effect unknown.
    case cancelled

    public var description: String {
        switch self {
        case .timedOut(let limit): "no answer within \(limit.components.seconds) s"
        case .connection(let detail): "connection failed: \(detail)"
        case .invalidURL(let url): "invalid URL \(url); check the connection's apiBaseURL"
        case .cancelled: "cancelled"
        }
    }
}

/// Sends one request and returns the complete answer. A protocol so the destination clients' handling of
/// every status and code is tested without a network.
public protocol HTTPTransport: Sendable {
    func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse
}
