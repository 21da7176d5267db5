/// An HTTP request as the listener hands it to a handler: the body is complete.
public struct HTTPRequest: Sendable {
    public let method: String
    /// Path without the query string, for example `/12/accounts/abc/custom_audiences`.
    public let path: String
    /// Query arguments, percent-decoded, in arrival order.
    public let query: [(name: String, value: String)]
    /// Request headers; names as sent (look them up with `header(_:)`, which ignores case).
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first header named `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The first query argument named `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }
}

/// What a handler answers.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Close the connection without answering (fault injection: a dropped connection).
    public var dropsConnection: Bool
    /// How long to wait before answering (fault injection: a slow server). The connection is suspended
    /// meanwhile, holding no thread.
    public var delay: Duration

    public init(
        status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [], dropsConnection: Bool = false, delay: Duration = .zero
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.dropsConnection = dropsConnection
        self.delay = delay
    }

    /// A plain-text answer.
    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// A JSON answer from already-encoded bytes.
    public static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
    }

    /// A connection closed without an answer.
    public static let dropped = HTTPResponse(status: 0, dropsConnection: true)
}
