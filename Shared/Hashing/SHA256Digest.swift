import CCrypto

/// A SHA-256 digest: 32 raw bytes, the form hashes travel in inside the pipeline.
///
/// Stored inline (four words, no heap allocation) because normalize computes millions of them; hex
/// appears only at a destination's edge (`hex`), as DESIGN.md "Wire formats" requires.
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    private init() {}

    /// Wraps 32 bytes that already are a digest; returns nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        withUnsafeMutableBytes(of: &words) { storage in
            for (index, byte) in bytes.enumerated() { storage[index] = byte }
        }
    }

    /// Parses a 64-character hexadecimal digest in either case; nil for anything else.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard let parsed = Self(hexBytes: utf8[...]) else { return nil }
        self = parsed
    }

    /// Parses 64 hexadecimal ASCII bytes in either case; nil for anything else.
    public init?(hexBytes: ArraySlice<UInt8>) {
        guard hexBytes.count == 64 else { return nil }
        var failed = false
        withUnsafeMutableBytes(of: &words) { storage in
            var position = hexBytes.startIndex
            for index in 0..<32 {
                guard let high = Self.nibble(hexBytes[position]), let low = Self.nibble(hexBytes[position + 1]) else {
                    failed = true
                    return
                }
                storage[index] = high << 4 | low
                position += 2
            }
        }
        if failed { return nil }
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: words) { Array($0) }
    }

    /// Hashes bytes with libcrypto's SHA-256.
    public static func hash(_ data: some Collection<UInt8>) -> SHA256Digest {
        var digest = SHA256Digest()
        let hashed: Void? = data.withContiguousStorageIfAvailable { input in
            withUnsafeMutableBytes(of: &digest.words) { output in
                cohortsync_sha256(input.baseAddress, input.count, output.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
        if hashed == nil {
            let copy = Array(data)
            copy.withUnsafeBufferPointer { input in
                withUnsafeMutableBytes(of: &digest.words) { output in
                    cohortsync_sha256(input.baseAddress, input.count, output.baseAddress?.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        return digest
    }

    /// Hashes the bytes of a view in place.
    public static func hash(_ data: Span<UInt8>) -> SHA256Digest {
        var digest = SHA256Digest()
        data.withUnsafeBufferPointer { input in
            withUnsafeMutableBytes(of: &digest.words) { output in
                cohortsync_sha256(input.baseAddress, input.count, output.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
        return digest
    }

    /// Calls `body` with the 32 digest bytes in place: encoders write them without an array per digest.
    /// Not generic, so that callers in other modules run it specialized.
    public func withBytes(_ body: (Span<UInt8>) -> Void) {
        withUnsafeBytes(of: words) { storage in
            storage.withMemoryRebound(to: UInt8.self) { body($0.span) }
        }
    }

    /// Hashes the UTF-8 encoding of a string.
    public static func hash(_ string: String) -> SHA256Digest {
        var string = string
        return string.withUTF8 { hash($0) }
    }

    /// How logs name upstream text that is no identifier yet may hold one (a snapshot id a careless CDP filled
    /// with an email address): `sha256:` and the first 16 hex digits of its digest, which
    /// `printf %s TEXT | sha256sum` finds again.
    public static func logReference(_ text: String) -> String {
        "sha256:" + hash(text).hex.prefix(16)
    }

    /// Lowercase hexadecimal, the form destinations expect.
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var chars = [UInt8]()
        chars.reserveCapacity(64)
        withUnsafeBytes(of: words) { storage in
            for byte in storage {
                chars.append(digits[Int(byte >> 4)])
                chars.append(digits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: chars, as: UTF8.self)
    }

    public var description: String { hex }

    public static func == (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool {
        lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
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
