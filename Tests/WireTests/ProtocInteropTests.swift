import Foundation
import Testing
import Wire

/// The hand-written codec against the reference implementation: Debian's `protoc`.
@Suite("Wire codec against protoc")
struct ProtocInteropTests {
    static let protoDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Shared/Wire").path

    /// Runs protoc with `arguments`, feeding `input` on stdin; returns stdout.
    static func protoc(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        guard let path = ["/usr/bin/protoc", "/usr/local/bin/protoc"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw ProtocMissing()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--proto_path=\(protoDirectory)"] + arguments + ["cohortsync.proto"]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ProtocFailed(message: String(decoding: errors, as: UTF8.self))
        }
        return Array(output)
    }

    struct ProtocMissing: Error, CustomStringConvertible {
        var description: String { "protoc is not installed: apt-get install -y protobuf-compiler (make test does this)" }
    }

    struct ProtocFailed: Error, CustomStringConvertible {
        let message: String
        var description: String { "protoc failed: \(message)" }
    }

    private func decodedByProtoc<M: ProtoMessage>(_ value: M) throws -> String {
        String(decoding: try Self.protoc(["--decode=\(M.protoName)"], input: value.serializedBytes()), as: UTF8.self)
    }

    /// Swift → protoc text → protoc binary → Swift must give the value back: protoc read every field as Swift meant it.
    private func throughProtoc<M: ProtoMessage>(_ value: M) throws -> M {
        let text = try Self.protoc(["--decode=\(M.protoName)"], input: value.serializedBytes())
        return try M(serializedBytes: try Self.protoc(["--encode=\(M.protoName)"], input: text))
    }

    @Test("protoc --decode reads what Swift wrote, field by field")
    func protocReadsSwift() throws {
        let text = try decodedByProtoc(MemberRecord.change(WireSamples.change))
        #expect(text.contains("audience_id: \"aud_42\""))
        #expect(text.contains("action: MEMBER_ACTION_ENTER"))
        #expect(text.contains("consent: CONSENT_DENIED"))
        #expect(text.contains("x_handle: \"@AdsAPI\""))
        #expect(text.contains("event_time_ms: 1795460400000"))
        let result = try decodedByProtoc(WireSamples.result)
        #expect(result.contains("status: BATCH_STATUS_PARTIAL"))
        #expect(result.contains("index: -1"))
        #expect(result.contains("attempted: 2500"))
        #expect(result.contains("latency_ms: 1250"))
    }

    @Test("every message survives a trip through protoc")
    func everyMessageThroughProtoc() throws {
        #expect(try throughProtoc(MemberRecord.change(WireSamples.change)) == .change(WireSamples.change))
        #expect(try throughProtoc(MemberRecord.snapshot(WireSamples.marker)) == .snapshot(WireSamples.marker))
        #expect(try throughProtoc(MemberRecord.lifecycle(WireSamples.lifecycle)) == .lifecycle(WireSamples.lifecycle))
        #expect(try throughProtoc(HashedRecord.member(WireSamples.member)) == .member(WireSamples.member))
        #expect(try throughProtoc(WireSamples.batch) == WireSamples.batch)
        #expect(try throughProtoc(WireSamples.result) == WireSamples.result)
        #expect(try throughProtoc(WireSamples.deadLetter) == WireSamples.deadLetter)
        #expect(try throughProtoc(WireSamples.mapping) == WireSamples.mapping)
        #expect(try throughProtoc(WireSamples.state) == WireSamples.state)
        #expect(try throughProtoc(HashedRecord.hold(WireSamples.hold)) == .hold(WireSamples.hold))
        #expect(try throughProtoc(BatcherState.member(WireSamples.state)) == .member(WireSamples.state))
        #expect(try throughProtoc(BatcherState.audience(WireSamples.audienceState)) == .audience(WireSamples.audienceState))
        #expect(try throughProtoc(BatcherState.withdrawal(WireSamples.withdrawal)) == .withdrawal(WireSamples.withdrawal))
        #expect(try throughProtoc(WireSamples.source) == WireSamples.source)
    }

    @Test("Swift reads what protoc --encode wrote from text")
    func swiftReadsProtoc() throws {
        let text = """
            member {
              connection_id: "tiktok-eu"
              audience_id: "aud_7"
              user_key: "u_9"
              action: MEMBER_ACTION_EXIT
              identifiers { type: IDENTIFIER_TYPE_PHONE sha256: "\\001\\002\\003" }
              identifiers { type: IDENTIFIER_TYPE_GAID sha256: "\\377" }
              event_time_ms: -5
            }
            """
        let bytes = try Self.protoc(["--encode=cohortsync.v1.HashedRecord"], input: Array(text.utf8))
        let expected = HashedMember(
            connectionID: "tiktok-eu", audienceID: "aud_7", userKey: "u_9", action: .exit,
            identifiers: [HashedIdentifier(type: .phone, sha256: [1, 2, 3]), HashedIdentifier(type: .gaid, sha256: [255])],
            eventTimeMilliseconds: -5)
        #expect(try HashedRecord(serializedBytes: bytes) == .member(expected))
    }

    @Test("Swift writes the same bytes as protoc for the same message")
    func sameBytes() throws {
        let text = try Self.protoc(["--decode=cohortsync.v1.Batch"], input: WireSamples.batch.serializedBytes())
        let protocBytes = try Self.protoc(["--encode=cohortsync.v1.Batch"], input: text)
        #expect(protocBytes == WireSamples.batch.serializedBytes())
    }
}
