import Foundation
import Hashing
import Identity
import Testing
import Wire

/// One line of `identity-vectors.tsv` (written by scripts/make-identity-vectors.py, digests from Python's hashlib).
struct IdentityVector: CustomTestStringConvertible, Sendable {
    let line: Int
    let destination: Destination
    let kind: IdentifierType
    let region: String?
    let input: String
    let normalized: String?
    /// The digest in hex, or `!reason` (`!not-sent` when the destination does not take the kind).
    let expected: String

    var testDescription: String { "\(destination.name) \(kind.name) \(input.debugDescription) (line \(line))" }

    static let all: [IdentityVector] = parsed.vectors

    /// Numbers of the lines that are neither a comment nor a vector: a generator regression, never skipped silently.
    static let unreadableLines: [Int] = parsed.unreadable

    private static let parsed: (vectors: [IdentityVector], unreadable: [Int]) = {
        guard let url = Bundle.module.url(forResource: "identity-vectors", withExtension: "tsv"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return ([], [0]) }
        var vectors: [IdentityVector] = []
        var unreadable: [Int] = []
        for (index, line) in text.split(separator: "\n").enumerated() where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, let destination = Destination(name: fields[0]), let kind = IdentifierType(name: fields[1]),
                let input = try? JSONDecoder().decode(String.self, from: Data(fields[3].utf8))
            else {
                unreadable.append(index + 1)
                continue
            }
            vectors.append(IdentityVector(
                line: index + 1, destination: destination, kind: kind, region: fields[2] == "-" ? nil : fields[2], input: input,
                normalized: fields[4] == "-" ? nil : fields[4], expected: fields[5]))
        }
        return (vectors, unreadable)
    }()
}

@Suite("Identity rules against the vector file")
struct IdentityVectorTests {
    /// The thousands of phone vectors generated from libphonenumber run in one test that names each
    /// disagreement: as test cases of their own they would flood the scheduler the other suites share.
    static let phones = IdentityVector.all.filter { $0.kind == .phone }
    static let others = IdentityVector.all.filter { $0.kind != .phone }

    @Test("the vector file is there and large enough")
    func fileLoaded() {
        #expect(IdentityVector.unreadableLines.isEmpty, "lines that are no vector: \(IdentityVector.unreadableLines.prefix(10))")
        #expect(Self.others.count >= 130)
        #expect(Self.phones.count >= 14_000)
        #expect(Set(IdentityVector.all.map(\.kind)) == Set(IdentifierType.kinds))
    }

    @Test("every phone vector from libphonenumber, in every region and form, comes out as libphonenumber says")
    func phoneVectors() {
        var disagreements = 0
        for vector in Self.phones {
            let rules = IdentityRules(destination: vector.destination, defaultRegion: vector.region)
            let got: String
            switch rules.normalize(.phone, vector.input) {
            case nil: got = "!not-sent"
            case .failure(let refusal): got = "!" + refusal.rawValue
            case .success(let identifier): got = identifier.digest.hex
            }
            if got != vector.expected {
                disagreements += 1
                if disagreements <= 50 { Issue.record("\(vector.testDescription): expected \(vector.expected), got \(got)") }
            }
        }
        #expect(disagreements == 0, "\(disagreements) of \(Self.phones.count) phone vectors disagree")
    }

    @Test("each other vector normalizes, hashes or is refused exactly as written", arguments: Self.others)
    func vector(_ vector: IdentityVector) {
        let rules = IdentityRules(destination: vector.destination, defaultRegion: vector.region)
        let outcome = rules.normalize(vector.kind, vector.input)
        switch outcome {
        case nil:
            #expect(vector.expected == "!not-sent")
        case .failure(let refusal):
            #expect("!" + refusal.rawValue == vector.expected)
        case .success(let identifier):
            #expect(identifier.digest.hex == vector.expected)
            #expect(identifier.normalized == vector.normalized)
            #expect(identifier.kind == vector.kind)
        }
    }

    @Test("the public vector: @AdsAPI normalizes to adsapi and hashes to 49e0be2a…470d")
    func publicVector() throws {
        let result = try #require(IdentityRules(destination: .x).normalize(.xHandle, "@AdsAPI"))
        let identifier = try result.get()
        #expect(identifier.normalized == "adsapi")
        #expect(identifier.digest.hex == "49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d")
    }

    @Test("an unknown default region is ignored, so national numbers are refused rather than guessed")
    func unknownRegion() {
        let rules = IdentityRules(destination: .x, defaultRegion: "ZZ")
        #expect(!PhoneRegions.isKnown("ZZ"))
        guard case .failure(.invalidPhone)? = rules.normalize(.phone, "(657) 777-0000") else {
            Issue.record("expected invalid-phone")
            return
        }
    }
}
