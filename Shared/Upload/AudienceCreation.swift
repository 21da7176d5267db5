import Destinations
import Wire

extension UploadEngine {
    /// Finds or makes the destination audience of `key`, so that one upstream audience gets one destination
    /// audience however often the process dies or an answer is lost.
    ///
    /// A create intent (the name, and when) is written and acknowledged before the first create is sent. From
    /// then on, whenever a create may have been made without its answer or its mapping arriving (a timeout, a
    /// server error, a SIGKILL before the mapping was written), the next attempt, here or in the next owner,
    /// first asks the destination for the audience that create would have made and adopts it when it is there.
    /// - Parameter create: false to only look (a batch that removes or deletes must not create an audience).
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
                // Mappings other replicas wrote since this one read them name audiences that are not this one's.
                try await directory.restore(partitions: mappingPartitions)
                if let live = directory.live(key) { return .done(live.destinationAudienceID) }
                let found = try await connection.api.findCreated(
                    named: earlier.name, tag: tag, since: earlier.createdAtMilliseconds, excluding: directory.unadoptable(for: key))
                switch found {
                case .done(let id?), .partial(let id?, _):
                    logger.warning("adopting the destination audience an earlier create made before its answer or mapping was lost", [
                        ("connection", .string(connection.id)), ("audience", .string(batch.audienceID)), ("destination_audience", .string(id)),
                    ])
                    try await directory.record(audienceMapping(batch, key, id: id, name: earlier.name))
                    metrics.audienceAdopted(connection.id)
                    return .done(id)
                case .done(nil), .partial(nil, _):
                    guard create else {
                        // Nothing was made: the intent is settled, and a later create starts afresh.
                        try await directory.record(audienceMapping(batch, key, id: "", name: earlier.name, deleted: true))
                        return .done(nil)
                    }
                case .retriable, .permanent, .credentialRevoked:
                    return found
                }
            }
            if intent?.name != name {
                // The name the next look searches for is the one this create sends.
                let written = audienceMapping(batch, key, id: "", name: name, intent: true)
                try await directory.record(written)
                intent = written
            }
            try await connection.api.reserveCreate()
            // The create and the write of its mapping are one step that a revocation or a stop does not cut in
            // two; the waits before it (its rate-limit turn, backoffs) stay cancellable.
            let outcome = try await Task { [self] () async throws -> DestinationOutcome<String?> in
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
            mayExist = mayExist || Self.mayHaveCreated(outcome)
            return outcome
        }
    }

    /// Whether a failed create may still have been made: not after a rate limit, a refused credential or a
    /// refusal, which the destination answers before acting.
    static func mayHaveCreated<Value>(_ outcome: DestinationOutcome<Value>) -> Bool {
        guard case .retriable(let failure, _) = outcome else { return false }
        return !CallRunner.isRateLimit(failure)
    }

    /// A mapping record of `key`. An intent has no id and is marked deleted too, so that a version that does
    /// not know intents reads it as no audience.
    func audienceMapping(_ batch: Batch, _ key: AudienceDirectory.Key, id: String, name: String, intent: Bool = false, deleted: Bool = false) -> AudienceMapping {
        AudienceMapping(
            connectionID: batch.connectionID, audienceID: batch.audienceID, scope: key.scope, destination: destination,
            destinationAudienceID: id, name: name, createdAtMilliseconds: clock(), deleted: deleted || intent, createIntent: intent)
    }
}
