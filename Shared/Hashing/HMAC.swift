import CCrypto

/// Keyed-hash message authentication codes through libcrypto.
///
/// OAuth 1.0a (X Ads API) signs with HMAC-SHA1; both the X uploader and the sandbox use this.
public enum HMAC {
    /// HMAC-SHA1 of `message` under `key`: 20 raw bytes.
    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                out.withUnsafeMutableBufferPointer { outBuffer in
                    _ = CCrypto.HMAC(
                        EVP_sha1(), keyBuffer.baseAddress, Int32(keyBuffer.count),
                        messageBuffer.baseAddress, messageBuffer.count, outBuffer.baseAddress, &length)
                }
            }
        }
        return Array(out.prefix(Int(length)))
    }

    /// HMAC-SHA1 of the UTF-8 bytes of `message` under the UTF-8 bytes of `key`.
    public static func sha1(key: String, message: String) -> [UInt8] {
        sha1(key: Array(key.utf8), message: Array(message.utf8))
    }
}
