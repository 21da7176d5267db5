import Hashing
import Testing

@Suite("SHA-256 through libcrypto")
struct SHA256DigestTests {
    @Test("the X documentation's handle vector: adsapi")
    func adsapiVector() {
        #expect(SHA256Digest.hash("adsapi").hex == "49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d")
    }

    @Test("the empty string and FIPS 180-2 'abc' vectors")
    func fipsVectors() {
        #expect(SHA256Digest.hash("").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hash("abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("hex parsing accepts either case and round-trips to lowercase")
    func hexRoundTrip() throws {
        let upper = "49E0BE2AECCFB51A8DEE4C945C8A70A9AC500CF6F5CB08112575F74DB9B1470D"
        let digest = try #require(SHA256Digest(hex: upper))
        #expect(digest == SHA256Digest.hash("adsapi"))
        #expect(digest.hex == upper.lowercased())
    }

    @Test("hex parsing refuses wrong lengths and non-hex characters", arguments: [
        "", "49e0", String(repeating: "g", count: 64), String(repeating: "a", count: 63), String(repeating: "a", count: 65),
    ])
    func hexRefusals(candidate: String) {
        #expect(SHA256Digest(hex: candidate) == nil)
    }
}
