import CMicroHTTPD
import Foundation
import Observability
import Synchronization

/// An HTTP/1.1 server on libmicrohttpd: its own polling thread and a small thread pool run the handler.
///
/// Handlers run on libmicrohttpd's threads, never on Swift's cooperative pool. A response with a `delay`
/// (the sandbox's injected latency) suspends its connection instead of holding a thread, so slow answers
/// never starve `/healthz`. Request bodies are collected whole before the handler runs, up to
/// `maxBodyBytes`; a larger body is answered 413 without calling the handler, at once when its
/// `Content-Length` says so. All bodies being received together hold at most `maxBufferedBytes`; a request
/// that would exceed it is answered 503 with `Retry-After` (a body without a length that outgrows either limit
/// has its connection closed), so many large uploads at once cannot exhaust memory. libmicrohttpd's own messages go to `log`, never straight to
/// stderr.
public final class HTTPServer: Sendable {
    /// Answers one request; called concurrently from several threads.
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    /// The port the server listens on (the real one when started on port 0).
    public let port: UInt16
    private let daemon: Mutex<DaemonHandle?>
    private let context: Unmanaged<ServerContext>

    /// Starts listening at once.
    /// - Parameters:
    ///   - host: an IPv4 address to bind, `127.0.0.1` for loopback only or `0.0.0.0` for every interface.
    ///   - port: 0 picks a free port.
    ///   - idleTimeoutSeconds: a connection that sends nothing for this long (while sending headers too) is closed.
    ///   - maxConnections: open connections at most (lowered to fit the process's file descriptor limit).
    ///   - maxBodyBytes: the largest request body accepted.
    ///   - maxBufferedBytes: request bodies held at once, all connections together (default four of the largest).
    ///   - log: receives libmicrohttpd's own messages, one line each.
    /// - Throws: `RuntimeError` `.listener` when the address cannot be bound.
    public init(
        host: String, port: UInt16, threads: Int = 4, maxBodyBytes: Int = 16 << 20, maxBufferedBytes: Int? = nil, idleTimeoutSeconds: Int = 10,
        maxConnections: Int = 10_000, log: @escaping @Sendable (String) -> Void = { _ in }, handler: @escaping Handler
    ) throws(RuntimeError) {
        let budget = BodyBudget(limit: max(maxBufferedBytes ?? 4 * maxBodyBytes, maxBodyBytes))
        let context = Unmanaged.passRetained(ServerContext(handler: handler, maxBodyBytes: maxBodyBytes, budget: budget, log: log))
        let started = cohortsync_mhd_start(
            host, port, UInt32(max(threads, 1)), UInt32(max(idleTimeoutSeconds, 1)), UInt32(max(maxConnections, 1)),
            serveAccess, context.toOpaque(), serveCompleted, context.toOpaque(), serveLog, context.toOpaque())
        guard let started else {
            context.release()
            throw RuntimeError(
                code: .listener,
                message: "cannot listen on \(host):\(port); is the port in use or the address not local? Choose another with --http-port/--port.")
        }
        self.daemon = Mutex(DaemonHandle(pointer: started))
        self.context = context
        self.port = cohortsync_mhd_bound_port(started)
    }

    /// Answers every delayed response now, stops accepting connections and waits for running handlers.
    public func stop() {
        let running = daemon.withLock { daemon -> DaemonHandle? in
            defer { daemon = nil }
            return daemon
        }
        guard let running else { return }
        // libmicrohttpd forbids stopping with suspended connections: resume them, and give their answers a
        // moment to go out rather than resetting the connections.
        context.takeUnretainedValue().resumeAllForShutdown(waitingUpTo: .seconds(2))
        MHD_stop_daemon(running.pointer)
        context.release()
    }

    deinit {
        stop()
    }
}

/// The `MHD_Daemon` pointer. `@unchecked Sendable` is sound: after start it is only handed, once, to
/// `MHD_stop_daemon`, and the mutex around it makes sure of the once.
private struct DaemonHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// A suspended `MHD_Connection`. `@unchecked Sendable` is sound: libmicrohttpd allows resuming a suspended
/// connection from any thread, and `ServerContext` hands each one to `MHD_resume_connection` exactly once.
private struct SuspendedConnection: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The handler and limits, reached from libmicrohttpd's callbacks through their closure argument, and the
/// connections suspended until their delayed answer is due.
private final class ServerContext: Sendable {
    let handler: HTTPServer.Handler
    let maxBodyBytes: Int
    let budget: BodyBudget
    let log: @Sendable (String) -> Void
    /// Connections parked until their answer is due, and how many delayed answers are not yet sent (parked or
    /// resumed); `drained` is signalled when that count reaches zero after `stopping`.
    private let suspended = Mutex<(stopping: Bool, next: UInt64, waiting: [UInt64: SuspendedConnection], unsent: Int, drained: DispatchSemaphore?)>(
        (false, 0, [:], 0, nil))
    private let timers = DispatchQueue(label: "cohortsync.http.delayed-answers")

    init(handler: @escaping HTTPServer.Handler, maxBodyBytes: Int, budget: BodyBudget, log: @escaping @Sendable (String) -> Void) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.budget = budget
        self.log = log
    }

    /// The answer for a body too large for this server.
    var tooLarge: HTTPResponse { .text(413, "request body larger than \(maxBodyBytes) bytes\n") }

    /// Suspends `connection` for `delay`; false (answer now) once the server is stopping.
    /// Call only from the access handler, as libmicrohttpd requires.
    func suspend(_ connection: OpaquePointer, for delay: Duration) -> Bool {
        let token = suspended.withLock { state -> UInt64? in
            guard !state.stopping else { return nil }
            MHD_suspend_connection(connection)
            state.unsent += 1
            state.next += 1
            state.waiting[state.next] = SuspendedConnection(pointer: connection)
            return state.next
        }
        guard let token else { return false }
        timers.asyncAfter(deadline: .now() + delay.inSeconds) { [self] in resume(token) }
        return true
    }

    private func resume(_ token: UInt64) {
        suspended.withLock { state in
            if let connection = state.waiting.removeValue(forKey: token) {
                MHD_resume_connection(connection.pointer)
            }
        }
    }

    /// A delayed answer was sent (or its connection closed): one fewer to wait for at shutdown.
    func delayedAnswerFinished() {
        suspended.withLock { state in
            state.unsent -= 1
            if state.unsent == 0 { state.drained?.signal() }
        }
    }

    /// Resumes every parked connection and waits, up to `limit`, until their answers are sent.
    func resumeAllForShutdown(waitingUpTo limit: Duration) {
        let drained = suspended.withLock { state -> DispatchSemaphore? in
            state.stopping = true
            for connection in state.waiting.values {
                MHD_resume_connection(connection.pointer)
            }
            state.waiting.removeAll()
            guard state.unsent > 0 else { return nil }
            state.drained = DispatchSemaphore(value: 0)
            return state.drained
        }
        _ = drained?.wait(timeout: .now() + limit.inSeconds)
    }
}

/// The bytes of request bodies held at once, all connections together; shared by libmicrohttpd's threads.
private final class BodyBudget: Sendable {
    let limit: Int
    private let held = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` from the budget; false (nothing taken) when that would exceed it.
    func take(_ bytes: Int) -> Bool {
        held.withLock { held in
            guard held + bytes <= limit else { return false }
            held += bytes
            return true
        }
    }

    func give(_ bytes: Int) {
        held.withLock { $0 -= bytes }
    }

    /// What could be taken now.
    var available: Int {
        held.withLock { limit - $0 }
    }
}

/// One request's body while it arrives; owned by libmicrohttpd's per-connection pointer until completion.
private final class RequestBody {
    var bytes: [UInt8] = []
    /// The request's headers, read once when they arrive: the framing check and the handler both use them.
    var headers: [(name: String, value: String)] = []
    /// Bytes taken from the server's `BodyBudget` for this body: what has arrived.
    var reserved = 0
    /// The answer decided before the body was complete (413 or 503); the rest of the body is dropped.
    var refusal: HTTPResponse?
    /// The answer of a suspended request, sent when libmicrohttpd calls the handler again after resuming.
    var delayed: HTTPResponse?
    /// Whether this request was parked, so its completion counts for the shutdown drain.
    var wasSuspended = false
}

/// Collects header or query pairs through libmicrohttpd's iterator.
private final class PairCollector {
    var pairs: [(name: String, value: String)] = []
}

private func collectValues(_ connection: OpaquePointer, _ kind: MHD_ValueKind) -> [(name: String, value: String)] {
    let collector = PairCollector()
    let unmanaged = Unmanaged.passRetained(collector)
    defer { unmanaged.release() }
    _ = MHD_get_connection_values(connection, kind, { cls, _, key, value in
        guard let cls, let key else { return MHD_Result.YES }
        let collector = Unmanaged<PairCollector>.fromOpaque(cls).takeUnretainedValue()
        collector.pairs.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
        return MHD_Result.YES
    }, unmanaged.toOpaque())
    return collector.pairs
}

private let serveAccess: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, requestState in
    guard let cls, let connection, let requestState, let uploadSize else { return MHD_Result.NO }
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    guard let state = requestState.pointee else {
        // First call for this request: headers are in, the body (if any) follows. A declared length over the
        // limit, or over what the budget has left now, is refused before a byte of the body is read. The budget
        // is taken as bytes arrive, not for the declared length: a client that declares much and sends little
        // holds only what it sent.
        let body = RequestBody()
        requestState.pointee = Unmanaged.passRetained(body).toOpaque()
        // Framing two parties could read differently (two lengths that disagree, a length beside chunked) is
        // how requests are smuggled past a proxy: refused, and the connection closed after the answer.
        body.headers = collectValues(connection, .HEADER_KIND)
        let framing = body.headers.filter { ["content-length", "transfer-encoding"].contains($0.name.lowercased()) }
        let lengths = Set(framing.filter { $0.name.lowercased() == "content-length" }.map(\.value))
        if lengths.count > 1 || (!lengths.isEmpty && framing.contains { $0.name.lowercased() == "transfer-encoding" }) {
            body.refusal = .ambiguousFraming
            return queue(.ambiguousFraming, on: connection)
        }
        guard let declared = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length").flatMap({ Int(String(cString: $0)) }), declared > 0 else {
            return MHD_Result.YES
        }
        if declared > context.maxBodyBytes {
            body.refusal = context.tooLarge
            return queue(context.tooLarge, on: connection)
        }
        guard context.budget.available >= declared else {
            body.refusal = .busy
            return queue(.busy, on: connection)
        }
        body.bytes.reserveCapacity(min(declared, 1 << 20))
        return MHD_Result.YES
    }
    let body = Unmanaged<RequestBody>.fromOpaque(state).takeUnretainedValue()
    if let delayed = body.delayed {
        body.delayed = nil
        return queue(delayed, on: connection)
    }
    if uploadSize.pointee > 0 {
        let arriving = uploadSize.pointee
        uploadSize.pointee = 0
        guard let uploadData, body.refusal == nil else { return MHD_Result.YES }
        let needed = body.bytes.count + arriving
        // A body without a Content-Length that outgrows a limit on the way: libmicrohttpd can only answer a
        // request whose body has ended, so the refusal is tried and, refused itself, closes the connection
        // rather than reading (and dropping) the rest of a flood.
        if needed > context.maxBodyBytes {
            body.refuse(context.tooLarge, budget: context.budget)
            return queue(context.tooLarge, on: connection)
        } else if needed > body.reserved, !context.budget.take(needed - body.reserved) {
            body.refuse(.busy, budget: context.budget)
            return queue(.busy, on: connection)
        } else {
            body.reserved = max(body.reserved, needed)
            uploadData.withMemoryRebound(to: UInt8.self, capacity: arriving) { pointer in
                body.bytes.append(contentsOf: UnsafeBufferPointer(start: pointer, count: arriving))
            }
        }
        return MHD_Result.YES
    }
    let response: HTTPResponse
    if let refusal = body.refusal {
        response = refusal
    } else {
        let request = HTTPRequest(
            method: method.map { String(cString: $0) } ?? "GET",
            path: url.map { String(cString: $0) } ?? "/",
            query: collectValues(connection, .GET_ARGUMENT_KIND),
            headers: body.headers,
            body: body.bytes)
        response = context.handler(request)
    }
    // The body is done with: its memory and budget go now, not when a delayed answer has been sent.
    body.bytes = []
    body.releaseReservation(to: context.budget)
    if response.delay > .zero {
        var due = response
        due.delay = .zero
        body.delayed = due
        if context.suspend(connection, for: response.delay) {
            body.wasSuspended = true
            return MHD_Result.YES
        }
        body.delayed = nil
    }
    return queue(response, on: connection)
}

private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
    if response.dropsConnection { return MHD_Result.NO }
    let reply = response.body.withUnsafeBytes { bytes in
        MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
    }
    guard let reply else { return MHD_Result.NO }
    defer { MHD_destroy_response(reply) }
    for (name, value) in response.headers {
        _ = MHD_add_response_header(reply, name, value)
    }
    // A handler's status outside HTTP's range is a bug in the handler; answer 500 rather than trap.
    let status = (100...599).contains(response.status) ? UInt32(response.status) : 500
    return MHD_queue_response(connection, status, reply)
}

private let serveLog: MHD_LogCallback = { cls, format, arguments in
    guard let cls, let format, let arguments else { return }
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    var line = [CChar](repeating: 0, count: 512)
    _ = vsnprintf(&line, line.count, format, arguments)
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    context.log(text.trimmingCharacters(in: .whitespacesAndNewlines))
}

private let serveCompleted: MHD_RequestCompletedCallback = { cls, _, requestState, _ in
    guard let requestState, let state = requestState.pointee else { return }
    let body = Unmanaged<RequestBody>.fromOpaque(state)
    if body.takeUnretainedValue().wasSuspended, let cls {
        Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().delayedAnswerFinished()
    }
    if let cls {
        body.takeUnretainedValue().releaseReservation(to: Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().budget)
    }
    body.release()
    requestState.pointee = nil
}

extension RequestBody {
    /// Drops what has arrived and answers `response` once the client has finished sending.
    func refuse(_ response: HTTPResponse, budget: BodyBudget) {
        refusal = response
        bytes = []
        releaseReservation(to: budget)
    }

    func releaseReservation(to budget: BodyBudget) {
        if reserved > 0 { budget.give(reserved) }
        reserved = 0
    }
}

extension HTTPResponse {
    /// The answer to a request with two Content-Length values that disagree, or one beside Transfer-Encoding.
    static var ambiguousFraming: HTTPResponse {
        var response = HTTPResponse.text(400, "ambiguous request framing: send one Content-Length, or Transfer-Encoding: chunked alone\n")
        response.headers.append((name: "Connection", value: "close"))
        return response
    }

    /// The answer when request bodies already hold the server's whole budget.
    static var busy: HTTPResponse {
        var response = HTTPResponse.text(503, "the server is receiving as much request data as it holds at once; retry shortly\n")
        response.headers.append((name: "Retry-After", value: "1"))
        return response
    }
}
