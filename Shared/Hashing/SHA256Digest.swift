import CCrypto

/// A SHA-256 digest: 32 raw bytes, the form hashes travel in inside the pipeline.
///
/// Hex appears only at a destination's edge (`hex`), as DESIGN.md "Wire formats" requires.
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes that already are a digest; returns nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses a 64-character hexadecimal digest in either case; nil for anything else.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = Self.nibble(utf8[2 * index]), let low = Self.nibble(utf8[2 * index + 1]) else {
                return nil
            }
            out[index] = high << 4 | low
        }
        self.bytes = out
    }

    /// Hashes bytes with libcrypto's SHA-256.
    public static func hash(_ data: some Collection<UInt8>) -> SHA256Digest {
        var out = [UInt8](repeating: 0, count: 32)
        let hashed: Void? = data.withContiguousStorageIfAvailable { input in
            out.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        if hashed == nil {
            let copy = Array(data)
            copy.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    _ = SHA256(input.baseAddress, input.count, output.baseAddress)
                }
            }
        }
        return SHA256Digest(uncheckedBytes: out)
    }

    /// Hashes the UTF-8 encoding of a string.
    public static func hash(_ string: String) -> SHA256Digest {
        var string = string
        return string.withUTF8 { hash($0) }
    }

    /// Lowercase hexadecimal, the form destinations expect.
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var chars = [UInt8]()
        chars.reserveCapacity(64)
        for byte in bytes {
            chars.append(digits[Int(byte >> 4)])
            chars.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: chars, as: UTF8.self)
    }

    public var description: String { hex }

    private init(uncheckedBytes: [UInt8]) {
        self.bytes = uncheckedBytes
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
