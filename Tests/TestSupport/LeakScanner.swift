/// Looks for any of many secret values (raw identifiers, credentials) in large byte dumps at once.
///
/// Every needle's first eight bytes go into a set; a rolling eight-byte window over the data looks each
/// position up, and only a hit compares whole needles. One pass whatever the number of needles, which a
/// scan of every topic for every identifier of a cohort needs.
public struct LeakScanner: Sendable {
    /// The shortest needle accepted: shorter values (a five-digit X id) occur in any large dump by chance.
    public static let minimumLength = 8
    private var byPrefix: [UInt64: [[UInt8]]] = [:]
    public private(set) var count = 0

    public init<S: Sequence>(needles: S) where S.Element == String {
        for needle in Set(needles) where needle.utf8.count >= Self.minimumLength {
            let bytes = Array(needle.utf8)
            byPrefix[Self.prefix(bytes), default: []].append(bytes)
            count += 1
        }
    }

    private static func prefix(_ bytes: [UInt8]) -> UInt64 {
        var value: UInt64 = 0
        for byte in bytes.prefix(8) { value = value << 8 | UInt64(byte) }
        return value
    }

    /// The needles found in `data`, each once.
    public func leaks(in data: [UInt8]) -> Set<String> {
        var found: Set<String> = []
        guard data.count >= Self.minimumLength else { return found }
        var window: UInt64 = 0
        for index in 0..<data.count {
            window = window << 8 | UInt64(data[index])
            guard index >= 7, let candidates = byPrefix[window] else { continue }
            let start = index - 7
            for needle in candidates where start + needle.count <= data.count {
                var matched = 8
                while matched < needle.count, data[start + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { found.insert(String(decoding: needle, as: UTF8.self)) }
            }
        }
        return found
    }
}
