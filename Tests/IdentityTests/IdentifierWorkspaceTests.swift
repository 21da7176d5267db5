import Hashing
import Identity
import Testing
import Wire

@Suite("Identity rules sharing one workspace per user")
struct IdentifierWorkspaceTests {
    /// Rule sets a user can meet in one configuration: both destinations, with and without default regions,
    /// in an order that makes each reuse what the one before it computed.
    static let ruleSets: [IdentityRules] = [
        IdentityRules(destination: .x, defaultRegion: "US"), IdentityRules(destination: .tiktok),
        IdentityRules(destination: .tiktok, defaultRegion: "US"), IdentityRules(destination: .x, defaultRegion: "GB"),
        IdentityRules(destination: .x), IdentityRules(destination: .tiktok, defaultRegion: "AR"),
        IdentityRules(destination: .x, defaultRegion: "IT"), IdentityRules(destination: .x, defaultRegion: "US"),
    ]

    static func describe(_ result: Result<SHA256Digest, IdentityRefusal>?) -> String {
        switch result {
        case nil: "not sent"
        case .failure(let refusal)?: refusal.rawValue
        case .success(let digest)?: digest.hex
        }
    }

    /// CPU-bound in a debug build: it yields every 500 values, so that it never holds a thread of the pool the
    /// other suites' timing-sensitive tests run on.
    @Test("every rule set gives a user's value the answer it gives alone, whatever ran before it in the workspace")
    func sharedEqualsAlone() async {
        var inputs = Set<[String]>()
        for vector in IdentityVector.all { inputs.insert([vector.kind.name, vector.input]) }
        var workspace = IdentifierWorkspace()
        var compared = 0
        var disagreements = 0
        for (index, input) in inputs.enumerated() {
            if index % 500 == 0 { await Task.yield() }
            guard let kind = IdentifierType(name: input[0]) else { continue }
            let value = input[1]
            workspace.startUser()
            for rules in Self.ruleSets {
                let shared = Self.describe(rules.digest(kind, value.utf8.span, in: &workspace))
                let alone = Self.describe(rules.digest(kind, value))
                compared += 1
                if shared != alone {
                    disagreements += 1
                    if disagreements <= 20 { Issue.record("\(kind.name) \(value.debugDescription) for \(rules.destination.name): shared \(shared), alone \(alone)") }
                }
            }
        }
        #expect(inputs.count >= 5_000, "the vector file should give thousands of distinct values")
        #expect(compared == inputs.count * Self.ruleSets.count)
        #expect(disagreements == 0)
    }

    @Test("a national phone number is completed by each connection's own default region, not the first one's")
    func phoneRegionNotShared() throws {
        var workspace = IdentifierWorkspace()
        workspace.startUser()
        let value = "(657) 777-0000"
        let us = try #require(IdentityRules(destination: .x, defaultRegion: "US").digest(.phone, value.utf8.span, in: &workspace)).get()
        let gb = try #require(IdentityRules(destination: .x, defaultRegion: "GB").digest(.phone, value.utf8.span, in: &workspace)).get()
        #expect(us == SHA256Digest.hash("+16577770000"))
        #expect(gb == SHA256Digest.hash("+446577770000"))
    }

    @Test("a number with its own country code is parsed once and written each destination's way")
    func internationalPhoneShared() throws {
        var workspace = IdentifierWorkspace()
        workspace.startUser()
        let value = "+1 (657) 777-0000"
        let x = try #require(IdentityRules(destination: .x, defaultRegion: "GB").digest(.phone, value.utf8.span, in: &workspace)).get()
        let tiktok = try #require(IdentityRules(destination: .tiktok).digest(.phone, value.utf8.span, in: &workspace)).get()
        #expect(x == SHA256Digest.hash("+16577770000"))
        #expect(tiktok == SHA256Digest.hash("16577770000"))
    }

    @Test("two values of one kind for one user each get their own answer: every reuse is keyed by the value")
    func reuseKeyedByValue() throws {
        var workspace = IdentifierWorkspace()
        workspace.startUser()
        let x = IdentityRules(destination: .x, defaultRegion: "US")
        let tiktok = IdentityRules(destination: .tiktok, defaultRegion: "US")
        let cases: [(IdentifierType, String, String)] = [
            (.email, "ada@example.com", "grace@example.com"), (.phone, "+1 657 777 0000", "+1 657 777 0001"),
            (.phone, "(657) 777-0000", "(657) 777-0001"),
            (.idfa, "AEBE52E7-03EE-455A-B3C4-E57283966239", "AEBE52E7-03EE-455A-B3C4-E57283966230"), (.xHandle, "@ada", "@grace"),
        ]
        for (kind, first, second) in cases {
            for rules in [x, tiktok] where rules.sends(kind) {
                for value in [first, second, first] {
                    let shared = Self.describe(rules.digest(kind, value.utf8.span, in: &workspace))
                    #expect(shared == Self.describe(rules.digest(kind, value)), "\(kind.name) \(value) for \(rules.destination.name)")
                }
            }
        }
    }

    @Test("a new user starts afresh: nothing computed for the one before is reused")
    func startUserForgets() throws {
        var workspace = IdentifierWorkspace()
        let rules = IdentityRules(destination: .x)
        for email in ["ada@example.com", "grace@example.com", "ada@example.com"] {
            workspace.startUser()
            let digest = try #require(rules.digest(.email, email.utf8.span, in: &workspace)).get()
            #expect(digest == SHA256Digest.hash(email))
        }
    }
}
