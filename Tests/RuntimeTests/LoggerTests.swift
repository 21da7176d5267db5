import Foundation
import Observability
import Synchronization
import Testing

@Suite("Structured JSON logs")
struct LoggerTests {
    private func capture(_ body: (Logger) -> Void, level: LogLevel = .debug) -> [[String: Any]] {
        let lines = Mutex<[String]>([])
        body(Logger(stage: "normalize", minimumLevel: level, sink: LogSink { line in lines.withLock { $0.append(line) } }))
        return lines.withLock { $0 }.map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? ["unparsable": line]
        }
    }

    @Test("one JSON object per line with ts, level, stage, msg, then fields")
    func format() throws {
        let lines = capture { $0.info("batch flushed", [("records", .int(3)), ("audience", "aud_42"), ("ok", true)]) }
        let line = try #require(lines.first)
        #expect(line["level"] as? String == "info")
        #expect(line["stage"] as? String == "normalize")
        #expect(line["msg"] as? String == "batch flushed")
        #expect(line["records"] as? Int == 3)
        #expect(line["audience"] as? String == "aud_42")
        #expect(line["ok"] as? Bool == true)
        #expect((line["ts"] as? String)?.hasSuffix("Z") == true)
    }

    @Test("fields named like secrets are redacted whatever their value")
    func redaction() throws {
        let lines = capture { $0.warning("auth", [("access_token", "abc"), ("consumer-secret", "s"), ("sasl.password", "p"), ("user_key", "u_1")]) }
        let line = try #require(lines.first)
        #expect(line["access_token"] as? String == "[redacted]")
        #expect(line["consumer-secret"] as? String == "[redacted]")
        #expect(line["sasl.password"] as? String == "[redacted]")
        #expect(line["user_key"] as? String == "u_1")
    }

    @Test("quotes, newlines and control characters stay inside valid JSON")
    func escaping() throws {
        let lines = capture { $0.error("bad \"input\"\nline two\u{1}", [("detail", "tab\there")]) }
        let line = try #require(lines.first)
        #expect(line["msg"] as? String == "bad \"input\"\nline two\u{1}")
        #expect(line["detail"] as? String == "tab\there")
    }

    @Test("a derived logger adds its fields to every line")
    func derivedLogger() throws {
        let lines = capture { $0.with([("connection", "x-main")]).info("uploaded", [("batch", "b-1")]) }
        let line = try #require(lines.first)
        #expect(line["connection"] as? String == "x-main")
        #expect(line["batch"] as? String == "b-1")
    }

    @Test("lines below the minimum level are dropped; reserved keys cannot be overwritten by fields")
    func levelsAndReservedKeys() throws {
        let lines = capture({ logger in
            logger.debug("hidden")
            logger.info("shown", [("msg", "spoof"), ("level", "error")])
        }, level: .info)
        #expect(lines.count == 1)
        #expect(lines.first?["msg"] as? String == "shown")
        #expect(lines.first?["level"] as? String == "info")
    }
}
