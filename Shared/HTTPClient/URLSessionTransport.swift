import Foundation
import Observability
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HTTPTransport` over FoundationNetworking's `URLSession`: keep-alive connections, a bounded number of
/// them per host, no cookies, no cache, and a deadline per request.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    /// - Parameter maxConnectionsPerHost: connections kept to one host; requests beyond wait for one.
    public init(maxConnectionsPerHost: Int = 8) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.invalidateAndCancel() }

    public func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse {
        guard let url = URL(string: request.url), url.scheme != nil, url.host != nil else { throw .invalidURL(request.url) }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = request.timeout.inSeconds
        for header in request.headers { urlRequest.setValue(header.value, forHTTPHeaderField: header.name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: urlRequest)
        } catch {
            if Task.isCancelled || (error as? URLError)?.code == .cancelled { throw .cancelled }
            if (error as? URLError)?.code == .timedOut { throw .timedOut(request.timeout) }
            // The code only: an error's description quotes the URL, and a URL may carry what must not be written down.
            throw .connection((error as? URLError).map { "URLError \($0.code.rawValue)" } ?? "\(type(of: error))")
        }
        guard let http = response as? HTTPURLResponse else { throw .connection("the answer is not HTTP") }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return IncomingResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
    }
}
