import Config
import Destinations
import Foundation
import HTTPClient
import Wire

/// A configured connection's API client and the credentials it signs with: what an uploader uploads through
/// and what `cohortsync status` asks for audience sizes, built one way for both.
public struct DestinationClient: Sendable {
    public let api: any AudienceAPI
    public let credentials: CredentialSource

    /// - Parameters:
    ///   - requestsPerMinute: the connection's write budget (X's write category, TikTok's per token).
    /// - Throws: `ConfigError` naming the first credential of `connection` that cannot be read now.
    public init(
        connection: CohortSyncConfig.Connection, transport: any HTTPTransport, requestTimeout: Duration, requestsPerMinute: Int,
        environment: @escaping @Sendable () -> [String: String] = { ProcessInfo.processInfo.environment }
    ) throws(ConfigError) {
        let credentials = try CredentialSource(connection: connection, environment: environment)
        switch connection.destination {
        case .x:
            api = XAdsClient(
                settings: .init(baseURL: connection.apiBaseURL, account: connection.account, requestTimeout: requestTimeout, writesPerMinute: requestsPerMinute),
                transport: transport
            ) {
                OAuth1.Credentials(
                    consumerKey: credentials.value("consumerKey"), consumerSecret: credentials.value("consumerSecret"),
                    token: credentials.value("token"), tokenSecret: credentials.value("tokenSecret"))
            }
        case .tiktok, .unspecified:
            api = TikTokClient(
                settings: .init(baseURL: connection.apiBaseURL, advertiser: connection.account, requestTimeout: requestTimeout, requestsPerMinute: requestsPerMinute),
                transport: transport
            ) { credentials.value("accessToken") }
        }
        self.credentials = credentials
    }
}
