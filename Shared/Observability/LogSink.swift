import Foundation
import Synchronization

/// Where finished log lines go. Writes are serialized so lines from many threads never interleave.
public final class LogSink: Sendable {
    private let write: Mutex<@Sendable (String) -> Void>

    /// A sink that calls `write` with each line (without the newline), for tests.
    public init(write: @escaping @Sendable (String) -> Void) {
        self.write = Mutex(write)
    }

    /// Standard error, one line per write: stdout stays free for command output.
    public static let standardError = LogSink { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func emit(_ line: String) {
        write.withLock { $0(line) }
    }
}
