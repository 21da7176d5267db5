import Foundation
import TestSupport
import Testing

/// `cohortsync identify` as a user runs it.
@Suite("cohortsync identify")
struct IdentifyCommandTests {
    func run(_ arguments: [String]) async throws -> (status: Int32?, output: String, errors: String) {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync"), arguments)
        let status = await child.waitForExit(timeout: .seconds(10))
        return (status, child.stdout, child.stderr)
    }

    @Test("prints the normalized form and the digest the destination receives")
    func forwarded() async throws {
        let result = try await run(["identify", "--destination", "x", "--type", "x_handle", "@AdsAPI"])
        #expect(result.status == 0)
        #expect(result.output.contains("normalized:  adsapi"))
        #expect(result.output.contains("sha256:      49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d"))
    }

    @Test("each destination applies its own email rule")
    func destinationRules() async throws {
        let x = try await run(["identify", "--destination", "x", "--type", "email", "Ada+News@Example.com"])
        let tiktok = try await run(["identify", "--destination", "tiktok", "--type", "email", "Ada+News@Example.com"])
        #expect(x.output.contains("normalized:  ada+news@example.com"))
        #expect(tiktok.output.contains("normalized:  ada@example.com"))
    }

    @Test("national phone numbers need --default-region")
    func region() async throws {
        let refused = try await run(["identify", "--destination", "tiktok", "--type", "phone", "(657) 777-0000"])
        #expect(refused.status == 2)
        #expect(refused.output.contains("refused: invalid-phone"))
        let accepted = try await run(["identify", "--destination", "tiktok", "--type", "phone", "--default-region", "US", "(657) 777-0000"])
        #expect(accepted.status == 0)
        #expect(accepted.output.contains("normalized:  16577770000"))
    }

    @Test("a kind the destination does not take, or a bad flag, says so")
    func refusals() async throws {
        let notSent = try await run(["identify", "--destination", "tiktok", "--type", "x_id", "123"])
        #expect(notSent.status == 2)
        #expect(notSent.output.contains("does not take x_id"))
        let badType = try await run(["identify", "--destination", "x", "--type", "fax", "123"])
        #expect(badType.status == 64)
        #expect(badType.errors.contains("email, phone, idfa"))
    }
}
