import Config
import Destinations
import HTTPClient
import Upload

/// Asks each destination for the size of the audiences CohortSync created there, through the configured
/// connections' own clients and credentials: the one figure of `cohortsync status` that no topic holds.
struct DestinationSizes: Sendable {
    private let clients: [String: any AudienceAPI]
    /// Connections whose credentials cannot be read here, with why.
    private let unavailable: [String: String]

    /// One client per connection of `config`; a connection whose credentials cannot be read is reported in its
    /// cells rather than failing the whole status.
    init(config: CohortSyncConfig, environment: @escaping @Sendable () -> [String: String]) {
        let transport = URLSessionTransport(maxConnectionsPerHost: 4)
        var clients: [String: any AudienceAPI] = [:]
        var unavailable: [String: String] = [:]
        for connection in config.connections {
            do {
                let client = try DestinationClient(
                    connection: connection, transport: transport, requestTimeout: .seconds(10), requestsPerMinute: connection.destination == .x ? 450 : 600,
                    environment: environment)
                clients[connection.id] = client.api
            } catch {
                unavailable[connection.id] = "no credentials (\(error.path))"
            }
        }
        self.clients = clients
        self.unavailable = unavailable
    }

    /// What `connection`'s destination reports for `audience`: `12000`, `0 TOO_SMALL`, `500 NOT_VALID`, or
    /// why it could not be asked (`error: 40105`, `connection not configured`).
    func cell(connection: String, audience: String) async -> String {
        if let reason = unavailable[connection] { return reason }
        guard let api = clients[connection] else { return "connection not configured" }
        do {
            switch try await api.reportedSize(of: audience) {
            case .done(let size), .partial(let size, _):
                return size.reasons.isEmpty ? String(size.size) : "\(size.size) \(size.reasons.joined(separator: "+"))"
            case .retriable(let failure, _), .permanent(let failure), .credentialRevoked(let failure):
                return "error: \(failure.code)"
            }
        } catch {
            return "error: cancelled"
        }
    }
}
