import Foundation
import HTTPClient
import Runtime
import Synchronization
import Testing

/// The transport against a real HTTP server on loopback: every exchange ends, within its deadline and its size
/// cap, and a redirect is an answer, never followed with the request's credentials.
@Suite("HTTP transport: redirects, answer size and deadline")
struct URLSessionTransportTests {
    @Test("a redirect is the answer: its status comes back and nothing is sent to its Location, on any method")
    func redirectNotFollowed() async throws {
        let followed = Mutex(0)
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            if request.path == "/elsewhere" {
                followed.withLock { $0 += 1 }
                return .text(200, "{\"code\":0}")
            }
            return HTTPResponse(status: Int(request.path.dropFirst()) ?? 500, headers: [("Location", "/elsewhere")], body: [])
        }
        defer { server.stop() }
        let transport = URLSessionTransport()
        for (status, method) in [(307, "POST"), (308, "POST"), (302, "GET"), (301, "POST"), (303, "POST")] {
            let answer = try await transport.send(OutgoingRequest(
                method: method, url: "http://127.0.0.1:\(server.port)/\(status)", headers: [("Access-Token", "secret")], body: method == "GET" ? [] : Array("{}".utf8),
                timeout: .seconds(10)))
            #expect(answer.status == status)
            #expect(answer.header("location") == "/elsewhere")
        }
        #expect(followed.withLock { $0 } == 0, "a redirect was followed")
    }

    @Test("a 401 that asks for credentials is the answer, with its body: no credential is offered and nothing waits")
    func authenticationChallenge() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            HTTPResponse(status: 401, headers: [("WWW-Authenticate", "Basic realm=\"x\"")], body: Array("{\"errors\":[{\"code\":\"INVALID_OR_EXPIRED_TOKEN\"}]}".utf8))
        }
        defer { server.stop() }
        let answer = try await URLSessionTransport().send(OutgoingRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/", body: [1], timeout: .seconds(20)))
        #expect(answer.status == 401)
    }

    @Test("an answer over the size cap fails the exchange; one at the cap is taken whole")
    func answerSizeCap() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            HTTPResponse(status: 200, headers: [], body: [UInt8](repeating: 0x61, count: Int(request.path.dropFirst()) ?? 0))
        }
        defer { server.stop() }
        let transport = URLSessionTransport(maxAnswerBytes: 100_000)
        let atCap = try await transport.send(OutgoingRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/100000", timeout: .seconds(10)))
        #expect(atCap.body.count == 100_000)
        await #expect(throws: TransportError.self) {
            _ = try await transport.send(OutgoingRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/5000000", timeout: .seconds(10)))
        }
        // An answer without a length, read until the connection closes: cut off as it grows past the cap.
        let (python, port) = try Self.rawServer(head: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", chunks: 50, chunk: 10_000, pause: 0.01)
        defer { python.terminate() }
        let error = await #expect(throws: TransportError.self) {
            _ = try await transport.send(OutgoingRequest(method: "GET", url: "http://127.0.0.1:\(port)/", timeout: .seconds(10)))
        }
        guard case .connection(let detail)? = error, detail.contains("over 100000 bytes") else {
            Issue.record("expected the size refusal, got \(String(describing: error))")
            return
        }
        // The transport goes on after an exchange it ended.
        let after = try await transport.send(OutgoingRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/10", timeout: .seconds(10)))
        #expect(after.body.count == 10)
    }

    /// A one-request server on loopback written in Python, for answers libmicrohttpd will not give: `head`, then
    /// `chunks` pieces of `chunk` bytes `pause` seconds apart. Returns the process and its port.
    static func rawServer(head: String, chunks: Int, chunk: Int, pause: Double) throws -> (Process, Int) {
        let script = """
            import socket, sys, time
            server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
            print(server.getsockname()[1], flush=True)
            connection, _ = server.accept(); connection.recv(65536)
            connection.sendall(\(head.debugDescription).encode())
            for _ in range(\(chunks)):
                time.sleep(\(pause))
                try: connection.sendall(b"x" * \(chunk))
                except OSError: sys.exit(0)
            connection.close()
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        let portLine = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(portLine) else {
            python.terminate()
            throw TransportError.connection("the raw server did not start (python3 on PATH?): \(portLine)")
        }
        return (python, port)
    }

    @Test("an answer trickled a byte at a time ends at the deadline for the whole exchange, as a timeout")
    func trickledAnswer() async throws {
        // Its head at once, then a byte every 200 ms for 60 s: URLSession's own timer, restarted by every byte,
        // never ends such an answer. (60 s, not less: a loaded machine may run the deadline's task late, and the
        // answer must not complete first.)
        let (python, port) = try Self.rawServer(head: "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n", chunks: 300, chunk: 1, pause: 0.2)
        defer { python.terminate() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            _ = try await URLSessionTransport().send(OutgoingRequest(method: "GET", url: "http://127.0.0.1:\(port)/", timeout: .seconds(2)))
        }
        guard case .timedOut? = error else { Issue.record("expected a timeout, got \(String(describing: error))"); return }
        // Without the deadline the answer would complete after 60 s; a loaded machine may delay the deadline's
        // task by seconds, not by that much.
        #expect(ContinuousClock.now - started < .seconds(45))
    }

    @Test("a caller's cancellation ends its exchange as cancelled, not with the answer that comes later")
    func cancellation() async throws {
        let arrived = Mutex(false)
        // The answer is held until the caller has cancelled, so it always comes later, however slowly this
        // machine runs the test; 30 s bounds the hold if the test never gets that far.
        let release = DispatchSemaphore(value: 0)
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            arrived.withLock { $0 = true }
            _ = release.wait(timeout: .now() + 30)
            return .text(200, "late")
        }
        defer {
            release.signal()
            server.stop()
        }
        let transport = URLSessionTransport()
        let started = ContinuousClock.now
        let exchange = Task {
            try await transport.send(OutgoingRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/", timeout: .seconds(30)))
        }
        // Cancelled once the request is in flight: the server has it.
        while !arrived.withLock({ $0 }) {
            try #require(ContinuousClock.now - started < .seconds(10), "the request never arrived")
            try await Task.sleep(for: .milliseconds(10))
        }
        exchange.cancel()
        release.signal()
        let result = await exchange.result
        guard case .failure(TransportError.cancelled) = result.mapError({ $0 as? TransportError ?? .connection("?") }) else {
            Issue.record("expected cancelled, got \(result)")
            return
        }
    }
}
