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
        // The transport goes on after an exchange it ended.
        let after = try await transport.send(OutgoingRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/10", timeout: .seconds(10)))
        #expect(after.body.count == 10)
    }

    @Test("an answer later than the deadline fails the exchange as a timeout, not as the late answer")
    func deadline() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            if request.path == "/slow" { Thread.sleep(forTimeInterval: 5) }
            return .text(200, "late")
        }
        defer { server.stop() }
        let transport = URLSessionTransport()
        let error = await #expect(throws: TransportError.self) {
            _ = try await transport.send(OutgoingRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/slow", timeout: .milliseconds(500)))
        }
        // Not timed: on a loaded machine the test's own tasks may wait seconds for a thread. Without the deadline
        // the exchange would end with the server's 200 after 5 s.
        guard case .timedOut? = error else { Issue.record("expected a timeout, got \(String(describing: error))"); return }
    }

    @Test("a caller's cancellation ends its exchange as cancelled, not with the answer that comes later")
    func cancellation() async throws {
        let arrived = Mutex(false)
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            arrived.withLock { $0 = true }
            Thread.sleep(forTimeInterval: 5)
            return .text(200, "late")
        }
        defer { server.stop() }
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
        let result = await exchange.result
        guard case .failure(TransportError.cancelled) = result.mapError({ $0 as? TransportError ?? .connection("?") }) else {
            Issue.record("expected cancelled, got \(result)")
            return
        }
    }
}
