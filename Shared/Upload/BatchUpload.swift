import Destinations
import Kafka
import Stage
import Wire

extension SourcePosition {
    /// `topic/partition@offset`, for logs.
    var label: String { "\(topic)/\(partition)@\(offset)" }
}

/// One batch record and where it came from.
struct BatchUpload: Sendable {
    let batch: Batch
    let source: SourcePosition
}

extension UploadEngine {
    /// Takes one batch to its end: the audience created if it has none yet, the users added or removed,
    /// or the audience deleted; then its result, and dead letters for whatever the destination refused.
    func run(_ upload: BatchUpload, _ completion: BatchCompletion) async throws {
        let batch = upload.batch
        let started = ContinuousClock.now
        guard let connection = connections[batch.connectionID], batch.destination == destination || batch.destination == .unspecified else {
            // A batch for a connection this configuration does not have: kept whole for a replay after the fix.
            logger.error(
                "a batch names a connection this uploader does not have; dead-lettered",
                [("connection", .string(batch.connectionID)), ("audience", .string(batch.audienceID)), ("source", .string(upload.source.label))])
            try await finish(upload, started: started, destinationID: "", attempts: 0, accepted: 0, refused: batch.users.indices.map {
                RefusedItem(index: $0, code: "unknown-connection", message: "no connection \(batch.connectionID) for \(destination.name) in the configuration")
            }, reason: "unknown-connection", completion)
            return
        }
        var attempts = 0
        let key = AudienceDirectory.Key(batch)
        if batch.operation == .deleteAudience {
            guard let mapping = directory.live(key) else {
                try await finish(upload, started: started, destinationID: "", attempts: 0, accepted: 0, refused: [], reason: "", completion)
                return
            }
            let settled = try await runner.run(connection, endpoint: "audience", attempts: &attempts) {
                try await connection.api.deleteAudience(mapping.destinationAudienceID)
            }
            switch settled {
            case .done, .partial:
                var deleted = mapping
                deleted.deleted = true
                try await directory.record(deleted)
                logger.info("destination audience deleted", [("connection", .string(connection.id)), ("audience", .string(batch.audienceID)), ("destination_audience", .string(mapping.destinationAudienceID))])
                try await finish(upload, started: started, destinationID: mapping.destinationAudienceID, attempts: attempts, accepted: 0, refused: [], reason: "", completion)
            case .failed(let failure, let reason):
                try await finish(upload, started: started, destinationID: mapping.destinationAudienceID, attempts: attempts, accepted: 0,
                                 refused: [RefusedItem(index: -1, code: failure.code, message: failure.message)], reason: reason, completion)
            }
            return
        }
        guard !batch.users.isEmpty else {
            try await finish(upload, started: started, destinationID: directory.live(key)?.destinationAudienceID ?? "", attempts: 0, accepted: 0, refused: [], reason: "", completion)
            return
        }
        var target = directory.live(key)
        if target == nil {
            // Nothing to remove from an audience that was never created.
            guard batch.operation == .add else {
                try await finish(upload, started: started, destinationID: "", attempts: 0, accepted: 0, refused: [], reason: "", completion)
                return
            }
            let name = AudienceName.make(upstream: batch.audienceName.isEmpty ? batch.audienceID : batch.audienceName, scope: batch.scope, limit: connection.api.maxNameLength)
            let created = try await runner.run(connection, endpoint: "audience", attempts: &attempts) {
                // A create and the write of its mapping are one step that a revocation or a stop does not cut in
                // two: an audience created and not recorded would be created again by the next owner (TikTok
                // names are not unique). Only the waits between attempts are cancellable.
                try await Task { [self] () async throws -> DestinationOutcome<String> in
                    let outcome = try await connection.api.createAudience(named: name)
                    let id: String? = switch outcome {
                    case .done(let id), .partial(let id, _): id
                    case .retriable, .permanent, .credentialRevoked: nil
                    }
                    if let id {
                        try await directory.record(AudienceMapping(
                            connectionID: batch.connectionID, audienceID: batch.audienceID, scope: key.scope, destination: destination,
                            destinationAudienceID: id, name: name, createdAtMilliseconds: clock()))
                    }
                    return outcome
                }.value
            }
            switch created {
            case .done(let id), .partial(let id, _):
                metrics.audienceCreated(connection.id)
                logger.info("destination audience created", [("connection", .string(connection.id)), ("audience", .string(batch.audienceID)), ("destination_audience", .string(id))])
                target = directory.live(key)
            case .failed(let failure, let reason):
                try await finish(upload, started: started, destinationID: "", attempts: attempts, accepted: 0, refused: batch.users.indices.map {
                    RefusedItem(index: $0, code: failure.code, message: "the audience could not be created: \(failure.message)")
                }, reason: reason, completion)
                return
            }
        }
        guard let audience = target?.destinationAudienceID else { preconditionFailure("an audience created is recorded before it is used") }
        let settled = try await runner.run(connection, endpoint: "users", attempts: &attempts) {
            try await connection.api.upload(batch.operation, users: batch.users, audience: audience)
        }
        switch settled {
        case .done(let accepted):
            try await finish(upload, started: started, destinationID: audience, attempts: attempts, accepted: accepted, refused: [], reason: "", completion)
        case .partial(let accepted, let refused):
            try await finish(upload, started: started, destinationID: audience, attempts: attempts, accepted: accepted, refused: refused, reason: "refused-by-destination", completion)
        case .failed(let failure, let reason):
            try await finish(upload, started: started, destinationID: audience, attempts: attempts, accepted: 0, refused: batch.users.indices.map {
                RefusedItem(index: $0, code: failure.code, message: failure.message)
            }, reason: reason, completion)
        }
    }

    /// Writes the batch's result and, per destination code, one dead letter holding the refused users as a
    /// batch of their own (replayable as is); both count toward the poll's completion.
    /// - Parameter refused: index -1 stands for the batch itself (a delete-audience that failed).
    private func finish(
        _ upload: BatchUpload, started: ContinuousClock.Instant, destinationID: String, attempts: Int, accepted: Int, refused: [RefusedItem],
        reason: String, _ completion: BatchCompletion
    ) async throws(KafkaError) {
        let batch = upload.batch
        let now = clock()
        let elapsed = ContinuousClock.now - started
        var records = OutgoingRecords()
        var byCode: [String: [RefusedItem]] = [:]
        for item in refused { byCode[item.code, default: []].append(item) }
        for (code, items) in byCode.sorted(by: { $0.key < $1.key }) {
            var letter = batch
            letter.users = items.compactMap { batch.users.indices.contains($0.index) ? batch.users[$0.index] : nil }
            records.append(DeadLetter(
                stage: stage, reason: reason, source: upload.source, errorCode: code,
                detail: "\(items.count) of \(max(batch.users.count, 1)) refused: \(items[0].message)", occurredAtMilliseconds: now,
                payloadType: Batch.protoName, payload: letter.serializedBytes()))
            metrics.deadLettered(reason, count: 1)
        }
        let status: BatchStatus = refused.isEmpty ? .succeeded : (accepted > 0 ? .partial : .failed)
        let result = BatchResult(
            batchID: batch.batchID, connectionID: batch.connectionID, audienceID: batch.audienceID, destinationAudienceID: destinationID,
            operation: batch.operation, status: status, attempted: Int32(batch.users.count), succeeded: Int32(accepted),
            errors: refused.map { ItemError(index: Int32($0.index), code: $0.code, message: $0.message) }, attempts: Int32(attempts),
            completedAtMilliseconds: now, latencyMilliseconds: Int64(elapsed.inSeconds * 1000))
        let headers = records.standardHeaders(for: BatchResult.self, trace: upload.source)
        records.append(result, topic: TopicNames.results, placement: .byKey, headers: headers, key: Array("\(batch.connectionID)/\(batch.audienceID)".utf8))
        try await producer.send(records, completion: completion)
        metrics.batch(
            batch.connectionID, batch.operation, status: status == .succeeded ? "succeeded" : status == .partial ? "partial" : "failed",
            accepted: accepted, refused: refused.count, seconds: elapsed.inSeconds)
        if !refused.isEmpty {
            logger.warning(
                "batch finished with refusals; the refused users are in the DLQ",
                [("connection", .string(batch.connectionID)), ("audience", .string(batch.audienceID)), ("batch", .string(batch.batchID)),
                 ("reason", .string(reason)), ("refused", .integer(refused.count)), ("accepted", .integer(accepted)),
                 ("codes", .string(byCode.keys.sorted().joined(separator: ",")))])
        }
    }
}
