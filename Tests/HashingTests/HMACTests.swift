import Hashing
import Testing

@Suite("HMAC-SHA1 through libcrypto")
struct HMACTests {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test("RFC 2202 test case 2")
    func rfc2202() {
        let mac = HMAC.sha1(key: "Jefe", message: "what do ya want for nothing?")
        #expect(hex(mac) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    }

    @Test("RFC 2202 test case 1: a 20-byte key of 0x0b")
    func rfc2202Case1() {
        let mac = HMAC.sha1(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
        #expect(hex(mac) == "b617318655057264e28bc0b6fb378c8ef146be00")
    }
}
