import Foundation

/// A real executable started by a test, with its stderr captured to a file and helpers to signal and wait.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; each ChildProcess is driven by one test at a time.
    private let process = Process()
    /// Where the child's standard error (its JSON logs) goes.
    public let stderrPath: String
    /// Where the child's standard output goes.
    public let stdoutPath: String

    /// Starts `executable` with `arguments`; `environment` is added to the test's own.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        let stem = NSTemporaryDirectory() + "child-\(UUID().uuidString)"
        stderrPath = stem + ".stderr"
        stdoutPath = stem + ".stdout"
        for path in [stderrPath, stdoutPath] {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw TestSupportError("cannot create \(path)")
            }
        }
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` (SIGTERM, SIGKILL, ...).
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits up to `timeout` for the process to exit; its exit status, or nil if still running.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// The child's stderr so far.
    public var stderr: String {
        (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    }

    /// The child's stdout so far.
    public var stdout: String {
        (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
    }

    /// Waits until a stderr log line contains `fragment`; returns that line. The log is read once more after
    /// the deadline: on a loaded machine this task may wake only after it, when the line has long been written.
    public func waitForLog(containing fragment: String, timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let line = stderr.split(separator: "\n").first(where: { $0.contains(fragment) }) { return String(line) }
            guard process.isRunning, ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("no log line containing '\(fragment)' within \(timeout); stderr:\n\(stderr.suffix(4000))")
    }

    /// The port the child's HTTP listener bound, read from its `http listening` log line (children start with `--http-port 0`).
    public func listeningPort(timeout: Duration = .seconds(30)) async throws -> Int {
        let line = try await waitForLog(containing: "\"http listening\"", timeout: timeout)
        guard let port = line.split(separator: "\"port\":").last.flatMap({ Int($0.prefix { $0.isNumber }) }) else {
            throw TestSupportError("no port in the log line: \(line)")
        }
        return port
    }

    /// Kills the child if it is still running (test clean-up). Asks the kernel rather than trusting
    /// `Process.isRunning` alone, so a failed test never leaves a stage consuming on the shared broker.
    public func stop() {
        let pid = process.processIdentifier
        guard pid > 0 else { return }
        if process.isRunning || kill(pid, 0) == 0 {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
    }
}
