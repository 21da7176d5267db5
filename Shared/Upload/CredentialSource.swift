import Foundation
import Config
import Synchronization

/// A connection's credentials, read from their references (environment variables or files) and re-read
/// on demand, so that a rotated secret file resumes a paused connection without a restart.
public final class CredentialSource: Sendable {
    private let references: [String: SecretReference]
    private let environment: @Sendable () -> [String: String]
    private let values: Mutex<[String: String]>

    /// - Throws: `ConfigError` naming the first credential that cannot be read now.
    public init(connection: CohortSyncConfig.Connection, environment: @escaping @Sendable () -> [String: String]) throws(ConfigError) {
        references = connection.credentials
        self.environment = environment
        values = Mutex(try Self.read(connection.credentials, environment: environment(), connection: connection.id))
    }

    /// The credential `name` as last read; empty when the connection has none of that name.
    public func value(_ name: String) -> String {
        values.withLock { $0[name] ?? "" }
    }

    /// `text` with every credential value replaced by `[redacted]`: a destination's error message may echo a
    /// request's headers, and it is written to the DLQ.
    public func redact(_ text: String) -> String {
        values.withLock { values in
            values.values.filter { $0.count >= 4 }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[redacted]") }
        }
    }

    /// Reads every credential again; true when one changed. A credential that cannot be read now keeps
    /// its last value (a secret being rewritten is briefly empty).
    public func reload() -> Bool {
        let fresh = (try? Self.read(references, environment: environment(), connection: "")) ?? [:]
        return values.withLock { values in
            var changed = false
            for (name, value) in fresh where values[name] != value {
                values[name] = value
                changed = true
            }
            return changed
        }
    }

    private static func read(_ references: [String: SecretReference], environment: [String: String], connection: String) throws(ConfigError) -> [String: String] {
        var values: [String: String] = [:]
        for (name, reference) in references.sorted(by: { $0.key < $1.key }) {
            values[name] = try reference.resolve(environment: environment, path: "connection \(connection) credentials.\(name)")
        }
        return values
    }
}
