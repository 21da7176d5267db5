import Foundation
import Observability
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HTTPTransport` over FoundationNetworking's `URLSession`: keep-alive connections, a bounded number of
/// them per host, no cookies, no cache.
///
/// Each exchange is bounded whatever the other side does: a deadline for the whole exchange (the request's
/// `timeout`; URLSession's own timer restarts with every chunk, so an answer trickling a byte at a time
/// would never end), a cap on the answer's body (an answer is held in memory whole), and redirects are
/// answers, never followed: a redirect would resend the request, credentials and body included, to
/// wherever the `Location` points.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let exchanges: ExchangeTable

    /// - Parameters:
    ///   - maxConnectionsPerHost: connections kept to one host; requests beyond wait for one.
    ///   - maxAnswerBytes: the largest answer body taken; a larger one fails the exchange (`tooLarge`).
    public init(maxConnectionsPerHost: Int = 8, maxAnswerBytes: Int = 16 << 20) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        exchanges = ExchangeTable(maxAnswerBytes: maxAnswerBytes)
        session = URLSession(configuration: configuration, delegate: SessionDelegate(exchanges), delegateQueue: nil)
    }

    deinit { session.invalidateAndCancel() }

    public func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse {
        guard let url = URL(string: request.url), url.scheme != nil, url.host != nil else { throw .invalidURL(request.url) }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = request.timeout.inSeconds
        for header in request.headers { urlRequest.setValue(header.value, forHTTPHeaderField: header.name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        let task = session.dataTask(with: urlRequest)
        let id = task.taskIdentifier
        let exchanges = exchanges
        let timeout = request.timeout
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                exchanges.begin(id, task: task, timeout: timeout, continuation: continuation)
                // The deadline for the whole exchange, armed once the exchange is in the table so it cannot miss
                // it: it ends the task as a timeout unless the answer came first (which cancels it).
                exchanges.arm(id, deadline: Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    exchanges.end(id, as: .timedOut)
                })
                // A caller cancelled before the exchange was in the table: its cancellation found nothing to end.
                if Task.isCancelled { exchanges.end(id, as: .cancelled) }
                task.resume()
            }
        } onCancel: {
            exchanges.end(id, as: .cancelled)
        }
        return try result.get()
    }
}

/// Why an exchange was ended from this side before URLSession finished it.
enum ExchangeEnding: Sendable {
    case timedOut, cancelled, tooLarge
    /// The server asked for credentials (a 401 with `WWW-Authenticate`): its answer is the answer.
    case challenged
}

/// The exchanges in flight, by task id: the answer gathered so far and the caller waiting for it. The
/// delegate's callbacks, the deadline and the caller's cancellation all meet here, under one lock.
final class ExchangeTable: Sendable {
    private struct Exchange {
        let task: URLSessionTask
        let timeout: Duration
        var deadline: Task<Void, Never>?
        let continuation: CheckedContinuation<Result<IncomingResponse, TransportError>, Never>
        var response: HTTPURLResponse?
        var body: [UInt8] = []
        var ending: ExchangeEnding?
    }

    private let exchanges = Mutex<[Int: Exchange]>([:])
    let maxAnswerBytes: Int

    init(maxAnswerBytes: Int) {
        self.maxAnswerBytes = maxAnswerBytes
    }

    func begin(_ id: Int, task: URLSessionTask, timeout: Duration, continuation: CheckedContinuation<Result<IncomingResponse, TransportError>, Never>) {
        exchanges.withLock { $0[id] = Exchange(task: task, timeout: timeout, continuation: continuation) }
    }

    /// Keeps the exchange's deadline, to cancel it when the answer comes first; one already over is cancelled now.
    func arm(_ id: Int, deadline: Task<Void, Never>) {
        let kept = exchanges.withLock { table -> Bool in
            guard table[id] != nil else { return false }
            table[id]?.deadline = deadline
            return true
        }
        if !kept { deadline.cancel() }
    }

    /// Ends an exchange still in flight for `reason`: its task is cancelled, and its completion reports why.
    func end(_ id: Int, as reason: ExchangeEnding) {
        let task = exchanges.withLock { table -> URLSessionTask? in
            guard table[id] != nil, table[id]?.ending == nil else { return nil }
            table[id]?.ending = reason
            // What came of the body is no longer wanted (the challenged answer's is: the server's explanation).
            if reason != .challenged { table[id]?.body = [] }
            return table[id]?.task
        }
        task?.cancel()
    }

    /// The answer's head: false (end it) when it announces a body over the cap.
    func received(_ id: Int, response: HTTPURLResponse) -> Bool {
        if response.expectedContentLength > Int64(maxAnswerBytes) {
            end(id, as: .tooLarge)
            return false
        }
        exchanges.withLock { $0[id]?.response = response }
        return true
    }

    func received(_ id: Int, data: Data) {
        let overflowed = exchanges.withLock { table -> Bool in
            // Chunks libcurl had already read arrive after an ending: they are not kept.
            guard table[id] != nil, table[id]?.ending == nil else { return false }
            table[id]?.body.append(contentsOf: data)
            return (table[id]?.body.count ?? 0) > maxAnswerBytes
        }
        if overflowed { end(id, as: .tooLarge) }
    }

    /// URLSession finished the task: the caller gets the answer, or why there is none.
    func completed(_ id: Int, error: (any Error)?) {
        guard let exchange = exchanges.withLock({ $0.removeValue(forKey: id) }) else { return }
        exchange.deadline?.cancel()
        exchange.continuation.resume(returning: Self.result(exchange, error: error, maxAnswerBytes: maxAnswerBytes))
    }

    private static func result(_ exchange: Exchange, error: (any Error)?, maxAnswerBytes: Int) -> Result<IncomingResponse, TransportError> {
        switch exchange.ending {
        case .timedOut: return .failure(.timedOut(exchange.timeout))
        case .cancelled: return .failure(.cancelled)
        case .tooLarge: return .failure(.connection("the answer is over \(maxAnswerBytes) bytes"))
        case .challenged:
            guard let http = exchange.response ?? exchange.task.response as? HTTPURLResponse else { return .failure(.connection("the answer is not HTTP")) }
            return .success(answer(http, body: exchange.body))
        case nil: break
        }
        if let error {
            if (error as? URLError)?.code == .timedOut { return .failure(.timedOut(exchange.timeout)) }
            if (error as? URLError)?.code == .cancelled { return .failure(.cancelled) }
            // The code only: an error's description quotes the URL, and a URL may carry what must not be written down.
            return .failure(.connection((error as? URLError).map { "URLError \($0.code.rawValue)" } ?? "\(type(of: error))"))
        }
        // A refused redirect reaches `didReceive response` only in newer FoundationNetworking; the task has it either way.
        guard let http = exchange.response ?? exchange.task.response as? HTTPURLResponse else { return .failure(.connection("the answer is not HTTP")) }
        return .success(answer(http, body: exchange.body))
    }

    private static func answer(_ http: HTTPURLResponse, body: [UInt8]) -> IncomingResponse {
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return IncomingResponse(status: http.statusCode, headers: headers, body: body)
    }
}

/// URLSession's callbacks, handed to the exchange table.
private final class SessionDelegate: NSObject, URLSessionDataDelegate, Sendable {
    private let exchanges: ExchangeTable

    init(_ exchanges: ExchangeTable) {
        self.exchanges = exchanges
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @Sendable @escaping (URLRequest?) -> Void
    ) {
        // The redirect is the answer: the caller sees its status, and nothing is sent to its `Location`.
        completionHandler(nil)
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @Sendable @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        // No credential is ever offered: a 401 asking for one is the answer (X's revoked token), not a wait.
        exchanges.end(task.taskIdentifier, as: .challenged)
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @Sendable @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        guard let http = response as? HTTPURLResponse else {
            completionHandler(.allow)
            return
        }
        completionHandler(exchanges.received(dataTask.taskIdentifier, response: http) ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        exchanges.received(dataTask.taskIdentifier, data: data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        exchanges.completed(task.taskIdentifier, error: error)
    }
}
