import Destinations
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TestSupport
import Testing

/// `cohortsync-sandbox` as users run it: flags, --help, its own /healthz, SIGTERM.
@Suite("The sandbox executable", .timeLimit(.minutes(1)))
struct SandboxExecutableTests {
    @Test("--help prints the interface and the default credentials")
    func help() async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-sandbox"), ["--help"])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 0)
        for fragment in ["--port VALUE", "(default: 8089)", "(default: sandbox-consumer-key)", "(default: sandbox-tiktok-token)", "/_sandbox/audiences"] {
            #expect(child.stdout.contains(fragment), "--help lacks \(fragment)")
        }
    }

    @Test("credentials come from flags; it answers on its port and exits 0 on SIGTERM")
    func runs() async throws {
        let child = try ChildProcess(
            try BuildProducts.executable("cohortsync-sandbox"),
            ["--port", "0", "--tiktok-token", "custom-token", "--faults", #"{"x":{"latency_ms":1}}"#])
        defer { child.stop() }
        let port = try await child.listeningPort(timeout: .seconds(20))
        let health = try await HTTPProbe.get("http://127.0.0.1:\(port)/healthz")
        #expect(health.status == 200)
        let faults = try await HTTPProbe.get("http://127.0.0.1:\(port)/_sandbox/faults")
        #expect(faults.body.contains("\"latency_ms\":1"))
        let create = ["advertiser_id": "a", "action": "create", "custom_audience_name": "n"]
        #expect(try await HTTPProbe.postJSON("http://127.0.0.1:\(port)/open_api/v1.3/segment/audience/", create, headers: ["Access-Token": "sandbox-tiktok-token"]).body.contains("40105"))
        #expect(try await HTTPProbe.postJSON("http://127.0.0.1:\(port)/open_api/v1.3/segment/audience/", create, headers: ["Access-Token": "custom-token"]).body.contains("\"code\":0"))
        child.send(SIGTERM)
        #expect(await child.waitForExit(timeout: .seconds(5)) == 0)
    }

    @Test("twenty requests sitting in injected latency hold no thread: /healthz answers within 1 s (not the 20 s of the latency), SIGTERM is prompt")
    func latencyHoldsNoThread() async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-sandbox"), ["--port", "0", "--faults", #"{"x":{"latency_ms":20000}}"#])
        defer { child.stop() }
        let port = try await child.listeningPort(timeout: .seconds(20))
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 32
        configuration.timeoutIntervalForRequest = 60
        let slow = URLSession(configuration: configuration)
        let answered = AnswerCount()
        let requests = (0..<20).map { _ in
            Task {
                // Any HTTP answer counts (unsigned, it is a 401); a reset connection does not.
                if (try? await slow.data(from: URL(string: "http://127.0.0.1:\(port)/12/accounts/a/custom_audiences")!))?.1 is HTTPURLResponse {
                    answered.count.add(1, ordering: .relaxed)
                }
            }
        }
        // The router counts a request when it has decided its answer, before the delay: all twenty are then parked.
        let deadline = ContinuousClock.now + .seconds(20)
        while await Self.xRequests(port: port) < 20 {
            try #require(ContinuousClock.now < deadline, "the twenty slow requests never arrived")
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(answered.count.load(ordering: .relaxed) == 0, "the slow requests are still waiting")
        for path in ["/healthz", "/_sandbox/faults", "/metrics"] {
            let fastest = try await Self.fastestAnswer("http://127.0.0.1:\(port)\(path)")
            // A held thread would make this 20 s; 1 s leaves room for a loaded CI machine (108 ms was seen).
            #expect(fastest < .seconds(1), "\(path) took \(fastest) with twenty requests in injected latency")
        }
        let stopping = ContinuousClock.now
        child.send(SIGTERM)
        #expect(await child.waitForExit(timeout: .seconds(10)) == 0)
        #expect(ContinuousClock.now - stopping < .seconds(5), "SIGTERM waited out the injected latency")
        for request in requests { await request.value }
        #expect(answered.count.load(ordering: .relaxed) == 20, "every parked request got its answer at shutdown")
    }

    @Test("with 1,100 idle connections open, /healthz still answers at once")
    func idleConnections() async throws {
        // The connection limit follows the file descriptor limit: give the sandbox room for 1,100 and more,
        // whatever this machine's default is (a hard limit below it fails here, visibly).
        let sandbox = try BuildProducts.executable("cohortsync-sandbox").path
        let child = try ChildProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", #"ulimit -n 4096 && exec "$0" --port 0"#, sandbox])
        defer { child.stop() }
        let port = try await child.listeningPort(timeout: .seconds(20))
        // A separate process opens the sockets and keeps them silent until its standard input closes.
        let holder = try ChildProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", """
            import socket, sys, time
            held = [socket.create_connection(("127.0.0.1", \(port))) for _ in range(1100)]
            print("holding", len(held), flush=True)
            time.sleep(60)
            """])
        defer { holder.stop() }
        let deadline = ContinuousClock.now + .seconds(30)
        while !holder.stdout.contains("holding 1100") {
            try #require(holder.isRunning && ContinuousClock.now < deadline, "the holder could not open its sockets: \(holder.stderr.suffix(500))")
            try await Task.sleep(for: .milliseconds(50))
        }
        // Past the old connection limit (1,020) a new connection waited in the listen queue until it timed
        // out; now it is served at once. About 5 ms alone; the bound leaves room for a loaded test machine.
        let fastest = try await Self.fastestAnswer("http://127.0.0.1:\(port)/healthz")
        #expect(fastest < .seconds(1), "/healthz took \(fastest) with 1,100 idle connections open")
    }

    @Test("libmicrohttpd's own messages reach stderr as JSON log lines, like every other line")
    func listenerMessagesAreJSON() async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-sandbox"), ["--port", "0"])
        defer { child.stop() }
        let port = try await child.listeningPort(timeout: .seconds(20))
        // A Content-Length that is not a number: libmicrohttpd refuses it itself, and says why.
        let curl = try ChildProcess(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-o", "/dev/null", "-H", "Content-Length: abc", "http://127.0.0.1:\(port)/healthz"])
        #expect(await curl.waitForExit(timeout: .seconds(10)) == 0)
        let line = try await child.waitForLog(containing: "\"msg\":\"libmicrohttpd\"", timeout: .seconds(10))
        #expect(line.contains("Content-Length"))
        let lines = child.stderr.split(separator: "\n")
        #expect(lines.count >= 3)
        #expect(lines.filter { !$0.hasPrefix("{\"ts\":") }.isEmpty, "every stderr line is a JSON log line")
    }

    @Test("a latency over one minute is refused, naming the field")
    func latencyBound() async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-sandbox"), ["--port", "0"])
        defer { child.stop() }
        let port = try await child.listeningPort(timeout: .seconds(20))
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/_sandbox/faults")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"x":{"latency_ms":1000000000}}"#.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 400)
        #expect(String(decoding: data, as: UTF8.self).contains("x.latency_ms must be a whole number from 0 to 60000"))
    }

    /// Answers received by the slow requests, shared with their tasks.
    final class AnswerCount: Sendable {
        let count = Atomic(0)
    }

    /// The fastest of five answers of `url`, each required to be 200: a busy test machine slows some of them,
    /// a server that cannot answer slows all of them.
    static func fastestAnswer(_ url: String) async throws -> Duration {
        var fastest = Duration.seconds(60)
        for _ in 0..<5 {
            let started = ContinuousClock.now
            #expect(try await HTTPProbe.get(url).status == 200)
            fastest = min(fastest, ContinuousClock.now - started)
        }
        return fastest
    }

    /// X requests the sandbox has decided an answer for, from its /metrics.
    static func xRequests(port: Int) async -> Int {
        guard let body = try? await HTTPProbe.get("http://127.0.0.1:\(port)/metrics").body else { return 0 }
        return body.split(separator: "\n").filter { $0.hasPrefix(#"cohortsync_sandbox_requests_total{api="x""#) }
            .reduce(0) { $0 + (Int($1.split(separator: " ").last ?? "") ?? 0) }
    }

    @Test("a malformed --faults value stops it at start with the field named")
    func badFaults() async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-sandbox"), ["--port", "0", "--faults", #"{"x":{"drop_rate":7}}"#])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 64)
        #expect(child.stderr.contains("x.drop_rate"))
    }
}
