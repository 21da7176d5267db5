import Identity
import Wire

/// The connections-and-syncs configuration every stage reads (DESIGN §4), after validation.
public struct CohortSyncConfig: Sendable, Equatable {
    /// One destination account and how to reach it.
    public struct Connection: Sendable, Equatable {
        public enum AudienceNaming: String, Sendable, CaseIterable {
            /// One destination audience per upstream audience.
            case single
            /// One destination audience per identifier type, named `"<name> (email)"`.
            case perIdentifier
        }

        public var id: String
        public var destination: Destination
        /// The X Ads account id, or the TikTok advertiser id.
        public var account: String
        /// Credential name → reference. X: consumerKey, consumerSecret, token, tokenSecret. TikTok: accessToken.
        public var credentials: [String: SecretReference]
        /// The identifier kinds this connection forwards (mParticle's "Forward Emails / Handles / Device IDs").
        public var forward: Set<IdentifierType>
        public var audienceNaming: AudienceNaming
        /// The API root: the real API by default, the sandbox for the demo and tests.
        public var apiBaseURL: String
        /// ISO region whose calling code completes national phone numbers.
        public var defaultRegion: String?

        /// The identifier rules of this connection's destination and region.
        public var identityRules: IdentityRules { IdentityRules(destination: destination, defaultRegion: defaultRegion) }
    }

    /// One upstream audience synced to one connection.
    public struct Sync: Sendable, Equatable {
        public enum Cadence: String, Sendable, CaseIterable {
            case realtime, hourly, daily, once
        }

        public var audienceID: String
        public var connectionID: String
        public var cadence: Cadence
        /// Delete the destination audience when the upstream audience is deleted.
        public var deleteOnUpstreamDelete: Bool
        /// A snapshot removing more than this fraction of the audience is held for an operator.
        public var maxRemovalFraction: Double
        /// Longest a realtime change waits in the batcher before it is flushed.
        public var maxDelaySeconds: Int
    }

    public var connections: [Connection]
    public var syncs: [Sync]

    public func connection(_ id: String) -> Connection? {
        connections.first { $0.id == id }
    }

    /// The syncs of an upstream audience (empty when nothing syncs it: ingest drops such events, but for a
    /// membership change denying consent).
    public func syncs(ofAudience audienceID: String) -> [Sync] {
        syncs.filter { $0.audienceID == audienceID }
    }

    /// Whether anything syncs an upstream audience: ingest's question for every record, answered without
    /// collecting the syncs.
    public func isSynced(audience audienceID: String) -> Bool {
        syncs.contains { $0.audienceID == audienceID }
    }

    /// Every audience a connection syncs, for the consent fan-out.
    public func audiences(ofConnection connectionID: String) -> [String] {
        syncs.filter { $0.connectionID == connectionID }.map(\.audienceID)
    }

    /// Default API roots (DESIGN §6).
    public static let defaultAPIBaseURL: [Destination: String] = [
        .x: "https://ads-api.x.com/12",
        .tiktok: "https://business-api.tiktok.com/open_api/v1.3",
    ]

    /// The credentials each destination needs.
    public static let requiredCredentials: [Destination: [String]] = [
        .x: ["consumerKey", "consumerSecret", "token", "tokenSecret"],
        .tiktok: ["accessToken"],
    ]
}
