import Foundation

/// A credential given by reference, never inline: the name of an environment variable or a file path.
///
/// The configuration file can then be committed and printed; the secret lives in the orchestrator's
/// secret store (a Kubernetes Secret as an env var or a mounted file).
public enum SecretReference: Sendable, Hashable, CustomStringConvertible {
    case environment(String)
    case file(String)

    public var description: String {
        switch self {
        case .environment(let name): "{\"env\": \"\(name)\"}"
        case .file(let path): "{\"file\": \"\(path)\"}"
        }
    }

    /// The secret's value, read now.
    /// - Throws: `ConfigError` naming the variable or file when it is missing or empty.
    public func resolve(environment: [String: String], path: String) throws(ConfigError) -> String {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw ConfigError(path: path, found: "environment variable \(name) unset or empty", allowed: "set \(name) to the credential")
            }
            return value
        case .file(let file):
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8),
                !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else {
                throw ConfigError(path: path, found: "file \(file) missing, unreadable or empty", allowed: "a readable file holding the credential")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Whether the secret is there, without reading it into anything that could be printed.
    public func isAvailable(environment: [String: String]) -> Bool {
        switch self {
        case .environment(let name): !(environment[name] ?? "").isEmpty
        case .file(let file): FileManager.default.isReadableFile(atPath: file)
        }
    }
}
