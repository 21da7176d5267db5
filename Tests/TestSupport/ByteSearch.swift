/// Finds raw bytes inside raw bytes, for tests that scan records and logs for values that must not be there.
///
/// A plain loop over concrete arrays: the standard library's generic `contains(_:)` costs far more per call
/// in a debug build, which a fuzz loop or a scan of a whole topic notices.
public enum ByteSearch {
    /// Whether `needle` occurs in `haystack`; an empty needle occurs everywhere.
    public static func contains(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard needle.count <= haystack.count else { return false }
        var start = 0
        let last = haystack.count - needle.count
        while start <= last {
            if haystack[start] == first {
                var matched = 1
                while matched < needle.count, haystack[start + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return true }
            }
            start += 1
        }
        return false
    }
}
