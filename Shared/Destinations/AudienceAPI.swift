import Wire

/// A destination's custom-audience API, as the upload engine uses it: one implementation per destination,
/// each reading its own answers into `DestinationOutcome`.
///
/// Calls wait for the client-side rate limiter first; they throw only `CancellationError`, when the task
/// is cancelled while waiting. A transport failure is an outcome (`retriable`), not an error.
public protocol AudienceAPI: Sendable {
    var destination: Destination { get }
    /// The longest audience name the destination takes.
    var maxNameLength: Int { get }

    /// Waits for the rate limiter's turn for one `createAudience`, which then sends at once. Separate so a
    /// caller can wait here cancellably and make the create itself, with whatever records it, uncancellable.
    func reserveCreate() async throws

    /// Creates a list audience and returns its id, without waiting for the rate limiter (`reserveCreate` first). `tag` names our audience for good (connection, audience,
    /// scope): X keeps it as the description, and when X refuses a name that exists its client adopts that
    /// audience only if it carries the same tag, never someone else's of the same name. TikTok creates a
    /// second audience under a name that exists, so callers must create at most once.
    func createAudience(named name: String, tag: String) async throws -> DestinationOutcome<String>

    /// The audience an earlier `createAudience(named:tag:)` of ours may have made although its answer, or the
    /// record of its id, was lost (a timeout; a process killed between the create and its mapping): its id, or
    /// nil when there is none and a create is safe. `since` is when that create was about to be sent (Unix
    /// milliseconds, our clock); `excluding` are destination audiences already mapped to other audiences of ours.
    func findCreated(named name: String, tag: String, since: Int64, excluding: Set<String>) async throws -> DestinationOutcome<String?>

    /// Adds or removes `users` in one request; the count taken on success.
    func upload(_ operation: BatchOperation, users: [BatchUser], audience: String) async throws -> DestinationOutcome<Int>

    /// Deletes an audience; one already gone counts as deleted.
    func deleteAudience(_ audience: String) async throws -> DestinationOutcome<Void>

    /// The audience's size as the destination reports it, for operators (`cohortsync status`).
    func reportedSize(of audience: String) async throws -> DestinationOutcome<ReportedAudienceSize>
}

/// An audience's size as its destination reports it: not our count of what we sent, but what the platform
/// matched, rounded or withheld under its privacy thresholds (X: 0 and `TOO_SMALL` under 100 users, else two
/// significant digits; TikTok: not targetable under 1,000).
public struct ReportedAudienceSize: Sendable, Equatable {
    public var size: Int
    public var targetable: Bool
    /// Why the audience cannot be targeted, in the destination's words (X: `TOO_SMALL`, `PROCESSING`).
    public var reasons: [String]

    public init(size: Int, targetable: Bool, reasons: [String] = []) {
        self.size = size
        self.targetable = targetable
        self.reasons = reasons
    }
}
