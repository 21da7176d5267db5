import CMicroHTTPD

/// Process-wide memory settings for servers that receive large request bodies.
public enum ProcessMemory {
    /// Serves every allocation of at least `bytes` from its own mapping, which goes back to the system the
    /// moment it is freed. glibc otherwise raises that threshold after the first large buffer is freed and
    /// keeps later ones in its heap, so a burst of large request bodies left the sandbox holding hundreds of
    /// MiB it no longer used. Call once, at start.
    /// - Returns: false when the C library refused (glibc takes at most 32 MiB) or has no such setting.
    @discardableResult
    public static func returnLargeAllocationsWhenFreed(from bytes: Int = 1 << 20) -> Bool {
        cohortsync_return_large_allocations(bytes) != 0
    }
}
