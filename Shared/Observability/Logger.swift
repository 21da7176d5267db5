import Foundation

/// A structured logger: one JSON object per line with `ts`, `level`, `stage`, `msg`, then fields.
///
/// Fields whose names look like credentials are replaced by `[redacted]` before they are written, so a
/// careless call site cannot leak a secret. Raw identifiers must never be passed at all (DESIGN §3).
public struct Logger: Sendable {
    public let stage: String
    public let minimumLevel: LogLevel
    private let sink: LogSink
    private let baseFields: [(String, LogValue)]

    public init(stage: String, minimumLevel: LogLevel = .info, sink: LogSink = .standardError) {
        self.stage = stage
        self.minimumLevel = minimumLevel
        self.sink = sink
        self.baseFields = []
    }

    private init(stage: String, minimumLevel: LogLevel, sink: LogSink, baseFields: [(String, LogValue)]) {
        self.stage = stage
        self.minimumLevel = minimumLevel
        self.sink = sink
        self.baseFields = baseFields
    }

    /// A logger that adds `fields` to every line it writes.
    public func with(_ fields: [(String, LogValue)]) -> Logger {
        Logger(stage: stage, minimumLevel: minimumLevel, sink: sink, baseFields: baseFields + fields)
    }

    public func debug(_ message: String, _ fields: [(String, LogValue)] = []) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: [(String, LogValue)] = []) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [(String, LogValue)] = []) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [(String, LogValue)] = []) { log(.error, message, fields) }

    /// Writes one line if `level` is at least the logger's minimum level.
    public func log(_ level: LogLevel, _ message: String, _ fields: [(String, LogValue)] = []) {
        guard level >= minimumLevel else { return }
        sink.emit(Self.line(timestamp: Date(), level: level, stage: stage, message: message, fields: baseFields + fields))
    }

    /// Renders one log line; exposed to tests so the format is pinned.
    static func line(timestamp: Date, level: LogLevel, stage: String, message: String, fields: [(String, LogValue)]) -> String {
        var parts = [
            "\"ts\":" + JSONText.quoted(timestampFormatter.format(timestamp)),
            "\"level\":" + JSONText.quoted(level.description),
            "\"stage\":" + JSONText.quoted(stage),
            "\"msg\":" + JSONText.quoted(message),
        ]
        var seen: Set<String> = ["ts", "level", "stage", "msg"]
        for (name, value) in fields where seen.insert(name).inserted {
            let rendered = Redaction.isSecret(fieldName: name) ? JSONText.quoted(Redaction.placeholder) : JSONText.render(value)
            parts.append(JSONText.quoted(name) + ":" + rendered)
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    private static let timestampFormatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
