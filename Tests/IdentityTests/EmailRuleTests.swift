@testable import Identity
import Testing
import Wire

/// The one-pass rule for ASCII emails must agree with the general one (lowercasing by Unicode's rules, then a
/// scan per check) on every ASCII text, for both destinations.
@Suite("Identity: ASCII emails in one pass")
struct EmailRuleTests {
    /// What a rule made of `value`: the normalized text, or the refusal.
    func outcome(_ rules: IdentityRules, _ value: String, ascii: Bool) -> Result<[UInt8], IdentityRefusal> {
        var workspace = IdentifierWorkspace()
        workspace.trim(Array(value.utf8).span)
        let refusal = ascii ? rules.asciiEmail(&workspace) : rules.anyEmail(&workspace)
        return refusal.map { .failure($0) } ?? .success(workspace.text)
    }

    @Test("200,000 random ASCII texts: both rules give the same text or the same refusal, and both outcomes occur")
    func agrees() throws {
        // Pieces of addresses and the bytes the rules care about, so that both outcomes are common.
        let local = ["a", "Zo", "9", "+", "+tag", ".", "-", "_", ",", ";", " ", "\t", "\u{7f}", "\u{1}", "@"]
        let domain = ["ex.com", "x.co", ".", "..", "b", "com", "@", " ", ";", "A.ORG", "-"]
        var state: UInt64 = 0x0E3A_11
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var accepted = 0
        var refused = 0
        for destination in [Destination.x, .tiktok] {
            let rules = IdentityRules(destination: destination)
            for _ in 0..<100_000 {
                var value = ""
                for _ in 0..<Int(next() % 4) { value += local[Int(next() % UInt64(local.count))] }
                if next() % 8 != 0 { value += "@" }
                for _ in 0..<Int(next() % 3) { value += domain[Int(next() % UInt64(domain.count))] }
                let fast = outcome(rules, value, ascii: true)
                try #require(fast == outcome(rules, value, ascii: false), "\(destination) \(value.debugDescription)")
                if case .success = fast { accepted += 1 } else { refused += 1 }
            }
        }
        #expect(accepted > 1_000 && refused > 1_000, "accepted \(accepted), refused \(refused)")
    }
}
