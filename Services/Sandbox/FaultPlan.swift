import Foundation
import Synchronization
import Wire

/// Faults the sandbox injects for one API, set by `--faults` or `POST /_sandbox/faults`.
struct FaultPlan: Sendable, Equatable {
    /// X: HTTP status → probability; TikTok: business code → probability (always HTTP 200).
    var errors: [Int: Double] = [:]
    /// The next N requests are rate limited (X 429 `TOO_MANY_REQUESTS`, TikTok code 40100).
    var rateLimitBurst = 0
    /// Added to every answer, in milliseconds, at most `maxLatencyMilliseconds`.
    var latencyMilliseconds = 0
    /// Up to this many milliseconds more, uniformly drawn per answer (`latency_jitter_ms`): 100 and 400 give
    /// answers between 100 and 500 ms, as a real API under load varies.
    var latencyJitterMilliseconds = 0
    /// Longer than any client timeout worth testing; a larger value is a typo that would park connections for days.
    static let maxLatencyMilliseconds = 60_000
    /// More 429s in a row than any test needs.
    static let maxRateLimitBurst = 1_000_000
    /// Probability of closing the connection without an answer.
    var dropRate = 0.0
    /// Probability of acting on a request and then closing the connection without the answer: a timeout after
    /// the change was made, which a client survives only if it looks before it sends a create again.
    var lostAnswerRate = 0.0
    /// The next N requests are acted on and their answers lost (`lost_answer_burst`), for a deterministic test.
    var lostAnswerBurst = 0
    /// Credentials revoked: X answers 401, TikTok code 40105.
    var tokenRevoked = false

    /// Reads `{"errors":{"503":0.1},"rate_limit_burst":3,"latency_ms":50,"latency_jitter_ms":100,"drop_rate":0.01,"lost_answer_rate":0.01,"lost_answer_burst":1,"token_revoked":false}`
    /// for `api`: X's injected errors are HTTP error statuses (400-599), TikTok's are business codes (1-99999).
    /// - Throws: `SandboxRequestError` naming the field that is wrong.
    init(json: Any?, api: Destination) throws(SandboxRequestError) {
        let path = api.name
        let codes = api == .x ? 400...599 : 1...99_999
        guard let json else { return }
        guard let object = json as? [String: Any] else { throw SandboxRequestError("\(path) must be an object") }
        let known: Set<String> = ["errors", "rate_limit_burst", "latency_ms", "latency_jitter_ms", "drop_rate", "lost_answer_rate", "lost_answer_burst", "token_revoked"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw SandboxRequestError("\(path).\(unknown) is not a fault; use errors, rate_limit_burst, latency_ms, latency_jitter_ms, drop_rate, lost_answer_rate, lost_answer_burst, token_revoked")
        }
        if let errors = object["errors"] {
            guard let map = errors as? [String: Any] else { throw SandboxRequestError("\(path).errors must map a status or code to a probability") }
            for (code, rate) in map {
                guard let number = Int(code), codes.contains(number) else {
                    throw SandboxRequestError(
                        "\(path).errors.\(code) is not \(api == .x ? "an HTTP error status" : "a business code"): use \(codes.lowerBound) to \(codes.upperBound)")
                }
                guard let probability = (rate as? NSNumber)?.doubleValue, (0...1).contains(probability) else {
                    throw SandboxRequestError("\(path).errors.\(code) must be a probability between 0 and 1")
                }
                self.errors[number] = probability
            }
        }
        rateLimitBurst = try Self.integer(object["rate_limit_burst"], "\(path).rate_limit_burst", in: 0...Self.maxRateLimitBurst) ?? 0
        latencyMilliseconds = try Self.integer(object["latency_ms"], "\(path).latency_ms", in: 0...Self.maxLatencyMilliseconds) ?? 0
        latencyJitterMilliseconds = try Self.integer(object["latency_jitter_ms"], "\(path).latency_jitter_ms", in: 0...Self.maxLatencyMilliseconds) ?? 0
        guard latencyMilliseconds + latencyJitterMilliseconds <= Self.maxLatencyMilliseconds else {
            throw SandboxRequestError("\(path).latency_ms plus latency_jitter_ms must be at most \(Self.maxLatencyMilliseconds)")
        }
        dropRate = try Self.probability(object["drop_rate"], "\(path).drop_rate") ?? 0
        lostAnswerRate = try Self.probability(object["lost_answer_rate"], "\(path).lost_answer_rate") ?? 0
        lostAnswerBurst = try Self.integer(object["lost_answer_burst"], "\(path).lost_answer_burst", in: 0...Self.maxRateLimitBurst) ?? 0
        if let revoked = object["token_revoked"] {
            guard let value = revoked as? Bool else { throw SandboxRequestError("\(path).token_revoked must be true or false") }
            tokenRevoked = value
        }
    }

    init() {}

    private static func probability(_ value: Any?, _ path: String) throws(SandboxRequestError) -> Double? {
        guard let value else { return nil }
        guard let number = (value as? NSNumber)?.doubleValue, (0...1).contains(number) else {
            throw SandboxRequestError("\(path) must be a probability between 0 and 1")
        }
        return number
    }

    /// A whole number in `range`, checked as a double before it is converted: `1e19` must be refused, not wrap.
    private static func integer(_ value: Any?, _ path: String, in range: ClosedRange<Int>) throws(SandboxRequestError) -> Int? {
        guard let value else { return nil }
        guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(),
            number.doubleValue >= Double(range.lowerBound), number.doubleValue <= Double(range.upperBound)
        else {
            throw SandboxRequestError("\(path) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number.doubleValue)
    }

    var json: [String: Any] {
        [
            "errors": Dictionary(uniqueKeysWithValues: errors.map { (String($0.key), $0.value) }),
            "rate_limit_burst": rateLimitBurst, "latency_ms": latencyMilliseconds, "latency_jitter_ms": latencyJitterMilliseconds, "drop_rate": dropRate,
            "lost_answer_rate": lostAnswerRate, "lost_answer_burst": lostAnswerBurst, "token_revoked": tokenRevoked,
        ]
    }
}

/// A request the sandbox cannot act on, with a message naming the field.
struct SandboxRequestError: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}
