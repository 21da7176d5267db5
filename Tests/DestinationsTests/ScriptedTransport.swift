import Destinations
import Foundation
import HTTPClient
import Synchronization

/// A transport that answers from a script and records every request, to test how a client reads each
/// status and code without a network.
final class ScriptedTransport: HTTPTransport {
    enum Step: Sendable {
        case answer(IncomingResponse)
        case fail(TransportError)
    }

    private let steps: Mutex<[Step]>
    private let sent = Mutex<[OutgoingRequest]>([])

    init(_ steps: [Step]) {
        self.steps = Mutex(steps)
    }

    var requests: [OutgoingRequest] { sent.withLock { $0 } }

    func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse {
        sent.withLock { $0.append(request) }
        let step = steps.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        switch step {
        case .answer(let response)?: return response
        case .fail(let error)?: throw error
        case nil: throw .connection("the script has no answer for request \(requests.count)")
        }
    }

    static func json(_ status: Int, _ object: Any, headers: [String: String] = [:]) -> Step {
        .answer(IncomingResponse(status: status, headers: headers, body: [UInt8](try! JSONSerialization.data(withJSONObject: object))))
    }
}

extension OutgoingRequest {
    /// The body parsed as JSON.
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
}
