import Destinations
import Wire

extension UploadEngine {
    /// Finds or makes the destination audience of `key`, so that one upstream audience gets one destination
    /// audience however often the process dies or a call times out.
    ///
    /// A create intent (the name, and when) is written and acknowledged before the first create is sent. From
    /// then on nobody knows for sure whether the destination made the audience (an answer lost to a timeout,
    /// a SIGKILL before the mapping was written), so every later attempt, here or in the next owner, first
    /// asks the destination for the audience that create would have made and adopts it when it is there.
    /// - Parameter create: false to only look (a delete-audience batch must not create one).
    /// - Returns: the destination audience's id; nil when there is none and `create` is false.
    func destinationAudience(
        _ batch: Batch, _ key: AudienceDirectory.Key, _ connection: UploadConnection, create: Bool, attempts: inout Int
    ) async throws -> Settled<String?> {
        if let live = directory.live(key) { return .done(live.destinationAudienceID) }
        let name = AudienceName.make(upstream: batch.audienceName.isEmpty ? batch.audienceID : batch.audienceName, scope: batch.scope, limit: connection.api.maxNameLength)
        let tag = "cohortsync:\(batch.connectionID)/\(batch.audienceID)/\(key.scope)"
        var intent = directory.createIntent(key)
        guard create || intent != nil else { return .done(nil) }
        // An intent found here is an earlier owner's or attempt's: its create may have been made.
        var mayExist = intent != nil
        return try await runner.run(connection, endpoint: "audience", attempts: &attempts) { () async throws -> DestinationOutcome<String?> in
            if let earlier = intent, mayExist {
                let found = try await connection.api.findCreated(
                    named: earlier.name, tag: tag, since: earlier.createdAtMilliseconds, excluding: directory.claimed(except: key))
                switch found {
                case .done(let id?), .partial(let id?, _):
                    logger.warning("adopting the destination audience an earlier create made before its mapping was written", [
                        ("connection", .string(connection.id)), ("audience", .string(batch.audienceID)), ("destination_audience", .string(id)),
                    ])
                    try await directory.record(audienceMapping(batch, key, id: id, name: earlier.name))
                    metrics.audienceAdopted(connection.id)
                    return .done(id)
                case .done(nil), .partial(nil, _):
                    guard create else { return .done(nil) }
                case .retriable, .permanent, .credentialRevoked:
                    return found
                }
            }
            if intent?.name != name {
                // The name the next look searches for is the one this create sends.
                let written = audienceMapping(batch, key, id: "", name: name)
                try await directory.record(written)
                intent = written
            }
            try await connection.api.reserveCreate()
            mayExist = true
            // The create and the write of its mapping are one step that a revocation or a stop does not cut in
            // two; the waits before it (its rate-limit turn, backoffs) stay cancellable.
            return try await Task { [self] () async throws -> DestinationOutcome<String?> in
                let outcome = try await connection.api.createAudience(named: name, tag: tag)
                guard let id = outcome.value else { return outcome.failure()! }
                // Logged before the mapping is written: if that write fails, the id is still on record.
                logger.info("destination audience created; recording its mapping", [
                    ("connection", .string(connection.id)), ("audience", .string(batch.audienceID)), ("destination_audience", .string(id)),
                ])
                metrics.audienceCreated(connection.id)
                try await directory.record(audienceMapping(batch, key, id: id, name: name))
                return .done(id)
            }.value
        }
    }

    /// A mapping record of `key`; an empty `id` makes it a create intent.
    func audienceMapping(_ batch: Batch, _ key: AudienceDirectory.Key, id: String, name: String) -> AudienceMapping {
        AudienceMapping(
            connectionID: batch.connectionID, audienceID: batch.audienceID, scope: key.scope, destination: destination,
            destinationAudienceID: id, name: name, createdAtMilliseconds: clock())
    }
}
