import Foundation
import Identity
import TestSupport
import Testing
import Wire

/// After a demo run: no raw identifier of its cohort, in any form the pipeline could have written it, and no
/// credential appears in a topic after normalize, in any stage's log or in the demo's own output.
///
/// `cohortsync.members.v1` carries raw identities by design (ingest → normalize); it is scanned too, as the
/// control that the needles are in the form a leak would take: it must show them.
enum PersonalDataScan {
    /// Topics downstream of normalize, where nothing may be raw.
    static let hashedTopics = [
        TopicNames.hashed, TopicNames.batchesX, TopicNames.batchesTikTok, TopicNames.batcherState, TopicNames.deadLetters,
        TopicNames.results, TopicNames.audiences,
    ]
    /// The demo's secrets (scripts/demo); consumer key and token travel in clear in every OAuth header.
    static let credentials = ["sandbox-consumer-secret", "sandbox-token-secret", "sandbox-tiktok-token"]
    static let userFields: [(name: String, kind: IdentifierType)] = [
        ("email", .email), ("phone", .phone), ("idfa", .idfa), ("gaid", .gaid), ("android_id", .androidID), ("x_handle", .xHandle), ("x_id", .xID),
    ]

    /// The raw values of every user in the run's upstream records (`phase-*.jsonl`, `key|json` lines), as
    /// written, trimmed, lowercased and as each destination's rules normalize them; digests the CDP sent
    /// pre-hashed are not personal data and are left out.
    static func needles(work: URL) throws -> (values: Set<String>, identifiers: Int) {
        let files = try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.hasPrefix("phase-") && $0.hasSuffix(".jsonl") }
        try #require(files.count == 4, "the demo writes one upstream file per phase: \(files)")
        var values: Set<String> = []
        var identifiers = 0
        let rules = [IdentityRules(destination: .x, defaultRegion: "US"), IdentityRules(destination: .tiktok, defaultRegion: "US")]
        for file in files {
            let text = try String(contentsOf: work.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                // The demo's deliberately broken records do not parse; they carry no identifier of the cohort.
                guard let bar = line.firstIndex(of: "|"),
                    let record = (try? JSONSerialization.jsonObject(with: Data(line[line.index(after: bar)...].utf8))) as? [String: Any],
                    let user = record["user"] as? [String: Any]
                else { continue }
                for field in userFields {
                    guard let raw = user[field.name] as? String else { continue }
                    let trimmed = raw.trimmingCharacters(in: .whitespaces)
                    if trimmed.count == 64, trimmed.allSatisfy(\.isHexDigit) { continue }
                    identifiers += 1
                    values.formUnion([raw, trimmed, trimmed.lowercased()])
                    for rule in rules {
                        if case .success(let identifier)? = rule.normalize(field.kind, raw), let normalized = identifier.normalized {
                            values.insert(normalized)
                        }
                    }
                }
            }
        }
        return (values, identifiers)
    }

    /// Every record of `topic` (key, value and headers) as one dump.
    static func dump(_ topic: String) async throws -> [UInt8] {
        let child = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["kcat", "-b", TestBroker.bootstrapServers, "-C", "-t", topic, "-e", "-q", "-X", "receive.message.max.bytes=1000000000", "-f", "%k|%s|%h\n"])
        defer { child.stop() }
        let status = await child.waitForExit(timeout: .seconds(180))
        try #require(status == 0, "kcat could not read \(topic): \(child.stderr)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: child.stdoutPath)))
    }

    static func check(work: URL, demoOutput: String) async throws {
        let (values, identifiers) = try needles(work: work)
        let scanner = LeakScanner(needles: values.union(credentials))
        try #require(identifiers > 10_000 && scanner.count > 10_000, "the cohort's identifiers were not found: \(identifiers) values, \(scanner.count) needles")

        let control = try await dump(TopicNames.members)
        let found = scanner.leaks(in: control).count
        #expect(found > 1_000, "the scan finds too few raw identifiers where they belong: its needles are not in the form a leak takes")
        var scanned = 0
        defer { print("personal data scan: \(identifiers) identifiers as \(scanner.count) needles; \(found) of them found on \(TopicNames.members) (control); \(scanned) bytes of topics after normalize, logs and output scanned") }

        for topic in hashedTopics {
            let data = try await dump(topic)
            scanned += data.count
            let leaks = scanner.leaks(in: data)
            let clean = leaks.isEmpty  // not expanded by #expect: the message names three, not thousands
            #expect(clean, "\(topic) (\(data.count) bytes) holds \(leaks.count) raw identifiers or credentials, e.g. \(leaks.sorted().prefix(3))")
        }
        let logs = try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.hasSuffix(".log") }
        #expect(logs.count == 6, "a log per stage and the sandbox: \(logs)")
        var logLines = 0
        for log in logs {
            let data = Array(try Data(contentsOf: work.appendingPathComponent(log)))
            scanned += data.count
            logLines += data.filter { $0 == UInt8(ascii: "\n") }.count
            let leaks = scanner.leaks(in: data)
            let clean = leaks.isEmpty
            #expect(clean, "\(log) holds \(leaks.count) raw identifiers or credentials, e.g. \(leaks.sorted().prefix(3))")
        }
        #expect(logLines > 20, "the stages logged at info level: \(logLines) lines")
        scanned += demoOutput.utf8.count
        let printed = scanner.leaks(in: Array(demoOutput.utf8))
        let quiet = printed.isEmpty
        #expect(quiet, "the demo printed \(printed.count) raw identifiers or credentials, e.g. \(printed.sorted().prefix(3))")
    }
}
