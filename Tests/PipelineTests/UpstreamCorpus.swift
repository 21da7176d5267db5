import Foundation
import Hashing

/// A deterministic mix of upstream records with what each should become, built from the identity vector
/// file so expected digests come from Python's hashlib, not from the code under test.
struct UpstreamCorpus {
    /// What ingest and normalize should do with one upstream record.
    enum Expected: Equatable {
        case deadLetter(String)
        case dropped
        case control
        /// A member change: per connection, the expected (identifier type, digest hex) set; nil when refused.
        case member(x: Set<String>?, tiktok: Set<String>?, consentDenied: Bool)
    }

    struct Entry {
        let json: String
        let expected: Expected
        let contentType: String?
    }

    /// A vector usable regardless of the connection's default region.
    struct Vector {
        let input: String
        /// destination → digest hex, absent when refused or not sent.
        let digests: [String: String]
    }

    var entries: [Entry] = []
    /// Raw identifier values that must never appear downstream.
    var rawValues: Set<String> = []

    static func loadVectors() -> [String: [Vector]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("IdentityTests/identity-vectors.tsv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [:] }
        var byKey: [String: (input: String, digests: [String: String])] = [:]
        var order: [String] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, fields[2] == "-", let input = try? JSONDecoder().decode(String.self, from: Data(fields[3].utf8)) else { continue }
            let kind = fields[1]
            // Only phones that read the same in every region: `+` and a country code. Without `+` (national,
            // `00…`) the connection's default region decides, and so it does after `+0`, which libphonenumber
            // reads once more as if the `+` were not there.
            if kind == "phone", !input.hasPrefix("+") || input.dropFirst().first.map({ !("1"..."9").contains($0) }) ?? true { continue }
            let key = kind + "\t" + fields[3]
            if byKey[key] == nil { order.append(key) }
            var entry = byKey[key] ?? (input, [:])
            if !fields[5].hasPrefix("!") { entry.digests[fields[0]] = fields[5] }
            byKey[key] = entry
        }
        var result: [String: [Vector]] = [:]
        for key in order {
            let kind = String(key.split(separator: "\t")[0])
            let entry = byKey[key]!
            result[kind, default: []].append(Vector(input: entry.input, digests: entry.digests))
        }
        return result
    }

    /// X forwards every kind, TikTok email, phone and gaid (TestConfigs.standard).
    static let forwarded: [String: Set<String>] = [
        "x": ["email", "phone", "idfa", "gaid", "android_id", "x_handle", "x_id"], "tiktok": ["email", "phone", "gaid"],
    ]
    static let wireNames = ["email": "email", "phone": "phone", "idfa": "idfa", "gaid": "gaid", "android_id": "androidID", "x_handle": "xHandle", "x_id": "xID"]

    init(count: Int, seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let vectors = Self.loadVectors()
        let audiences = ["aud_x": ["x"], "aud_both": ["x", "tiktok"], "aud_tiktok": ["tiktok"]]
        func member(_ index: Int, audience: String, snapshot: String?) -> Entry {
            var user: [String: String] = [:]
            var chosen: [String: Vector] = [:]
            for kind in ["email", "phone", "idfa", "gaid", "android_id", "x_handle", "x_id"] where random.next() % 3 == 0 || (kind == "email" && random.next() % 2 == 0) {
                let options = vectors[kind] ?? []
                guard !options.isEmpty else { continue }
                let vector = options[Int(random.next() % UInt64(options.count))]
                user[kind] = vector.input
                chosen[kind] = vector
                let trimmed = vector.input.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.count >= 6, trimmed.count != 64 { rawValues.insert(trimmed) }
            }
            let consentDenied = random.next() % 20 == 0
            var expected: [String: Set<String>?] = [:]
            for destination in ["x", "tiktok"] where audiences[audience]!.contains(destination) {
                let digests = Set(chosen.compactMap { kind, vector -> String? in
                    guard Self.forwarded[destination]!.contains(kind), let digest = vector.digests[destination] else { return nil }
                    return Self.wireNames[kind]! + ":" + digest
                })
                expected[destination] = consentDenied || digests.isEmpty ? .some(nil) : .some(digests)
            }
            var object: [String: Any] = [
                "audience": ["id": audience], "user": user.merging(["id": "user-\(index)"]) { a, _ in a },
                "timestamp": "2026-11-23T19:00:00Z",
            ]
            if let snapshot {
                object["type"] = "snapshot_member"
                object["snapshot"] = snapshot
            } else {
                object["type"] = "membership"
                object["action"] = "enter"
            }
            if consentDenied { object["consent"] = ["ads": false] } else if random.next() % 2 == 0 { object["consent"] = ["ads": true] }
            let json = String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            return Entry(
                json: json,
                expected: .member(x: expected["x"] ?? nil, tiktok: expected["tiktok"] ?? nil, consentDenied: consentDenied),
                contentType: nil)
        }
        let invalid: [(String, String)] = [
            ("{not json", "invalid-json"), ("[]", "invalid-json"), (#"{"type":"purchase","audience":{"id":"aud_x"}}"#, "unknown-type"),
            (#"{"type":"membership","action":"enter","user":{"id":"u","email":"hidden.person@example.org"}}"#, "missing-audience-id"),
            (#"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u","phone":98765}}"#, "invalid-field"),
            (#"{"type":"membership","audience":{"id":"aud_x"},"action":"teleport","user":{"id":"u"}}"#, "invalid-action"),
        ]
        var index = 0
        while entries.count < count {
            index += 1
            let roll = random.next() % 100
            switch roll {
            case 0..<70:
                let audience = ["aud_x", "aud_both", "aud_tiktok"][Int(random.next() % 3)]
                entries.append(member(index, audience: audience, snapshot: nil))
            case 70..<80:
                let json = random.next() % 2 == 0
                    ? #"{"type":"track","event":"Audience Entered","userId":"seg-\#(index)","properties":{"audience_key":"aud_x"},"context":{"traits":{"email":"segment.user\#(index)@example.net"}}}"#
                    : #"{"type":"identify","userId":"seg-\#(index)","traits":{"aud_x":true,"email":"segment.user\#(index)@example.net"},"context":{"personas":{"computation_key":"aud_x"}}}"#
                rawValues.insert("segment.user\(index)@example.net")
                let digest = Self.sha256Hex("segment.user\(index)@example.net")
                entries.append(Entry(json: json, expected: .member(x: ["email:" + digest], tiktok: nil, consentDenied: false), contentType: nil))
            case 80..<88:
                let (json, reason) = invalid[Int(random.next() % UInt64(invalid.count))]
                rawValues.insert("hidden.person@example.org")
                entries.append(Entry(json: json, expected: .deadLetter(reason), contentType: nil))
            case 88..<95 where index % 2 == 0:
                // Consent denied in an audience no connection syncs: the user is withdrawn from every synced audience.
                rawValues.insert("unsynced.denial\(index)@example.net")
                let json = #"{"type":"membership","audience":{"id":"aud_none"},"action":"enter","user":{"id":"u\#(index)","email":"unsynced.denial\#(index)@example.net"},"consent":{"ads":false}}"#
                entries.append(Entry(json: json, expected: .member(x: nil, tiktok: nil, consentDenied: true), contentType: nil))
            case 88..<95:
                entries.append(Entry(json: #"{"type":"membership","audience":{"id":"aud_none"},"action":"enter","user":{"id":"u\#(index)"}}"#, expected: .dropped, contentType: nil))
            case 95..<97:
                entries.append(Entry(json: #"{"type":"audience","audience":{"id":"aud_both","name":"Renamed \#(index)"},"action":"renamed"}"#, expected: .control, contentType: nil))
            default:
                let snapshot = "snap-\(index)"
                let audience = ["aud_x", "aud_both", "aud_tiktok"][Int(random.next() % 3)]
                let size = 5 + Int(random.next() % 20)
                let declared = random.next() % 4 == 0 ? size + 1 : size
                entries.append(Entry(json: #"{"type":"snapshot_begin","audience":{"id":"\#(audience)"},"snapshot":"\#(snapshot)"}"#, expected: .control, contentType: nil))
                for position in 0..<size { entries.append(member(index * 1000 + position, audience: audience, snapshot: snapshot)) }
                entries.append(Entry(json: #"{"type":"snapshot_end","audience":{"id":"\#(audience)"},"snapshot":"\#(snapshot)","members":\#(declared)}"#, expected: .control, contentType: nil))
            }
        }
        entries.append(Entry(json: "{\"type\":\"membership\",\"pad\":\"" + String(repeating: "x", count: (1 << 20) + 10) + "\"}", expected: .deadLetter("too-large"), contentType: nil))
    }

    /// Segment emails are already in normal form (lowercase, trimmed, no tag), so their digest is SHA-256 of
    /// the text itself; libcrypto's SHA-256 is checked against published vectors in HashingTests.
    static func sha256Hex(_ text: String) -> String {
        SHA256Digest.hash(text).hex
    }
}

/// A small deterministic generator (SplitMix64), so every run builds the same corpus.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
