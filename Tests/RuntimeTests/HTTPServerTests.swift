import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Observability
import Runtime
import Synchronization
import TestSupport
import Testing

@Suite("HTTP listener on libmicrohttpd")
struct HTTPServerTests {
    @Test("a handler sees method, path, query, headers and the whole body; its status, headers and body come back")
    func requestAndResponse() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            let summary = "\(request.method) \(request.path) name=\(request.queryValue("name") ?? "-") "
                + "x=\(request.header("X-Test") ?? "-") bytes=\(request.body.count)"
            return HTTPResponse(status: 201, headers: [("X-Answer", "42")], body: Array(summary.utf8))
        }
        defer { server.stop() }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/12/accounts/a1/custom_audiences?name=High%20value")!)
        request.httpMethod = "POST"
        request.setValue("yes", forHTTPHeaderField: "x-test")
        request.httpBody = Data(repeating: 7, count: 300_000)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 201)
        #expect(http.value(forHTTPHeaderField: "X-Answer") == "42")
        #expect(String(decoding: data, as: UTF8.self) == "POST /12/accounts/a1/custom_audiences name=High value x=yes bytes=300000")
    }

    @Test("a handler answering a status outside HTTP's range gets a 500, and the server goes on", arguments: [-1, 0, 42, 600, 70_000])
    func invalidStatus(_ status: Int) async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            request.path == "/bad" ? HTTPResponse(status: status) : .text(200, "fine")
        }
        defer { server.stop() }
        let (_, bad) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.port)/bad")!)
        #expect((bad as? HTTPURLResponse)?.statusCode == 500)
        let (_, good) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.port)/good")!)
        #expect((good as? HTTPURLResponse)?.statusCode == 200)
    }

    @Test("a body over the limit is answered 413 without calling the handler")
    func bodyLimit() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, maxBodyBytes: 1_000) { _ in .text(200, "handled") }
        defer { server.stop() }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/")!)
        request.httpMethod = "POST"
        request.httpBody = Data(repeating: 1, count: 5_000)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 413)
    }

    /// A client of raw sockets, so bodies can stay half sent: one prints a line per request it makes.
    static let budgetClient = #"""
        import socket, sys, time
        port = int(sys.argv[1])
        def answer(conn):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return "closed"
                data += chunk
            head = data.split(b"\r\n\r\n")[0].decode()
            return head.split("\r\n")[0] + ("; Retry-After: 1" if "Retry-After: 1" in head else "")
        def post(length):
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % length)
            return conn
        first = post(700000)
        first.sendall(b"a" * 600000)
        time.sleep(0.5)
        second = post(700000)
        print("second", answer(second))
        first.sendall(b"a" * 100000)
        print("first", answer(first))
        third = post(700000)
        third.sendall(b"a" * 700000)
        print("third", answer(third))
        chunked = socket.create_connection(("127.0.0.1", port), timeout=10)
        chunked.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(12):
                chunked.sendall(b"%x\r\n%s\r\n" % (200000, b"a" * 200000))
            chunked.sendall(b"0\r\n\r\n")
            print("chunked", answer(chunked))
        except OSError:
            print("chunked closed")
        fourth = post(700000)
        fourth.sendall(b"a" * 700000)
        print("fourth", answer(fourth))
        """#

    @Test("bodies share a budget: a request past it is answered 503 with Retry-After at once; the budget comes back after each request, a refused chunked body's too")
    func bodyBudget() async throws {
        let handled = Mutex(0)
        let server = try HTTPServer(host: "127.0.0.1", port: 0, maxBodyBytes: 1_000_000, maxBufferedBytes: 1_000_000) { request in
            handled.withLock { $0 += 1 }
            return .text(200, "took \(request.body.count)")
        }
        defer { server.stop() }
        let client = try ChildProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", Self.budgetClient, String(server.port)])
        #expect(await client.waitForExit(timeout: .seconds(60)) == 0, "\(client.stderr)")
        let lines = client.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 5, "\(client.stdout)")
        #expect(Array(lines[0..<3]) == ["second HTTP/1.1 503 Service Unavailable; Retry-After: 1", "first HTTP/1.1 200 OK", "third HTTP/1.1 200 OK"])
        #expect(lines[3] == "chunked closed", "a chunked body past the limit has its connection closed")
        #expect(lines[4] == "fourth HTTP/1.1 200 OK", "the refused chunked body gave its budget back")
        #expect(handled.withLock { $0 } == 3, "the refused requests never reach the handler")
    }

    @Test("framing two readers could take apart differently is refused 400: two Content-Length values that disagree, a length beside chunked")
    func ambiguousFraming() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in .text(200, "took \(request.body.count)") }
        defer { server.stop() }
        let client = #"""
            import socket, sys
            port = int(sys.argv[1])
            for head, body in [
                (b"Content-Length: 6\r\nContent-Length: 5\r\n", b"abcdef"),
                (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"5\r\nabcde\r\n0\r\n\r\n"),
                (b"Content-Length: 5\r\nContent-Length: 5\r\n", b"abcde"),
            ]:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n" + body)
                data = b""
                while b"\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                print(data.split(b"\r\n")[0].decode())
            """#
        let child = try ChildProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", client, String(server.port)])
        #expect(await child.waitForExit(timeout: .seconds(30)) == 0, "\(child.stderr)")
        #expect(child.stdout.split(separator: "\n").map(String.init) == [
            "HTTP/1.1 400 Bad Request", "HTTP/1.1 400 Bad Request", "HTTP/1.1 200 OK",
        ], "two equal lengths are one length")
    }

    @Test("binding a port in use fails with a listener error that says what to do")
    func portInUse() throws {
        let first = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text(200, "") }
        defer { first.stop() }
        let error = #expect(throws: RuntimeError.self) { _ = try HTTPServer(host: "127.0.0.1", port: first.port) { _ in .text(200, "") } }
        #expect(error?.code == .listener)
        #expect(error?.isRetriable == true)
    }

    @Test("the observability endpoints answer metrics, liveness and readiness")
    func observabilityEndpoints() async throws {
        let metrics = MetricsRegistry()
        metrics.counter("cohortsync_test_total", help: "t").increment()
        let health = HealthState()
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            ObservabilityServer.respond(to: request, metrics: metrics, health: health) ?? .text(404, "")
        }
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let (metricsData, _) = try await URLSession.shared.data(from: URL(string: base + "/metrics")!)
        #expect(String(decoding: metricsData, as: UTF8.self).contains("cohortsync_test_total 1"))
        let (_, notReady) = try await URLSession.shared.data(from: URL(string: base + "/readyz")!)
        #expect((notReady as? HTTPURLResponse)?.statusCode == 503)
        health.setReady(true)
        let (_, ready) = try await URLSession.shared.data(from: URL(string: base + "/readyz")!)
        #expect((ready as? HTTPURLResponse)?.statusCode == 200)
        let stalled = Atomic(false)
        health.addLivenessCheck { !stalled.load(ordering: .relaxed) }
        let (_, live) = try await URLSession.shared.data(from: URL(string: base + "/healthz")!)
        #expect((live as? HTTPURLResponse)?.statusCode == 200)
        stalled.store(true, ordering: .relaxed)
        let (_, stuck) = try await URLSession.shared.data(from: URL(string: base + "/healthz")!)
        #expect((stuck as? HTTPURLResponse)?.statusCode == 503, "a failing liveness check fails /healthz")
        stalled.store(false, ordering: .relaxed)
        health.setLive(false)
        let (_, dead) = try await URLSession.shared.data(from: URL(string: base + "/healthz")!)
        #expect((dead as? HTTPURLResponse)?.statusCode == 503)
    }
}
