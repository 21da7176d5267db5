import Foundation
import Runtime

/// JSON in and out of the sandbox's handlers.
enum SandboxJSON {
    /// Encodes a JSON value (dictionaries, arrays, strings, numbers, booleans) as an HTTP answer.
    static func response(_ status: Int, _ value: Any, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        let body = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("{}".utf8)
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(body))
    }

    /// Parses a request body; nil for an empty body.
    /// - Throws: `SandboxRequestError` when the body is not JSON.
    static func parse(_ body: [UInt8]) throws(SandboxRequestError) -> Any? {
        guard !body.isEmpty else { return nil }
        do {
            return try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw SandboxRequestError("the request body is not valid JSON")
        }
    }
}
