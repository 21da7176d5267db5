/// Decides which named values are secrets, for logs, printed configuration and error messages.
public enum Redaction {
    /// What a secret is replaced with.
    public static let placeholder = "[redacted]"

    private static let secretMarkers = [
        "password", "secret", "token", "credential", "authorization", "api_key", "apikey", "private_key", "signature",
    ]

    /// Whether a field or property with this name holds a secret (case-insensitive, `-` and `.` read as `_`).
    public static func isSecret(fieldName: String) -> Bool {
        let normalized = fieldName.lowercased().map { $0 == "-" || $0 == "." ? "_" : $0 }
        let name = String(normalized)
        return secretMarkers.contains { name.contains($0) }
    }
}
