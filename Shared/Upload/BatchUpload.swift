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

    /// Why a decoded record is no batch to act on, or nil. An empty record or a tombstone decodes to all
    /// defaults, and an operation this version does not know reads as unspecified: never taken as an add.
    static func problem(_ batch: Batch) -> String? {
        if batch.connectionID.isEmpty { return "connection_id is empty (an empty record or a tombstone?)" }
        if batch.audienceID.isEmpty { return "audience_id is empty" }
        if batch.batchID.isEmpty { return "batch_id is empty" }
        if let unknown = batch.unknownEnums.first {
            return "\(unknown) is unknown to this version; upgrade the uploader, then replay the batch from cohortsync.dlq.v1"
        }
        // Longer than any the batcher writes: these texts go into mappings, results and dead letters.
        for (field, text, bound) in [
            ("connection_id", batch.connectionID, TextBounds.audienceID), ("audience_id", batch.audienceID, TextBounds.audienceID),
            ("batch_id", batch.batchID, TextBounds.audienceID), ("audience_name", batch.audienceName, TextBounds.audienceName),
        ] where text.utf8.count > bound {
            return "\(field) has \(text.utf8.count) bytes; at most \(bound)"
        }
        switch batch.operation {
        case .add, .remove, .deleteAudience: return nil
        case .unspecified: return "operation is unspecified or unknown to this version; expected add, remove or delete-audience"
        }
    }
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
            let refusal = "no connection \(batch.connectionID) for \(destination.name) in the configuration"
            let refused = batch.users.isEmpty
                ? [RefusedItem(index: -1, code: "unknown-connection", message: refusal)]
                : batch.users.indices.map { RefusedItem(index: $0, code: "unknown-connection", message: refusal) }
            try await finish(upload, started: started, destinationID: "", attempts: 0, accepted: 0, refused: refused, reason: "unknown-connection", completion)
            return
        }
        var attempts = 0
        let key = AudienceDirectory.Key(batch)
        let audience: String
        switch try await destinationAudience(batch, key, connection, create: batch.operation == .add && !batch.users.isEmpty, attempts: &attempts) {
        case .done(let id?), .partial(let id?, _):
            audience = id
        case .done(nil), .partial(nil, _):
            // No destination audience: nothing to remove from or delete, and an empty add is nothing to send.
            try await finish(upload, started: started, destinationID: "", attempts: attempts, accepted: 0, refused: [], reason: "", completion)
            return
        case .failed(let failure, let reason):
            let what = batch.operation == .add ? "created" : "found"
            try await finish(upload, started: started, destinationID: "", attempts: attempts, accepted: 0, refused: (batch.users.isEmpty ? [-1] : Array(batch.users.indices)).map {
                RefusedItem(index: $0, code: failure.code, message: "the audience could not be \(what): \(failure.message)")
            }, reason: reason, completion)
            return
        }
        if batch.operation == .deleteAudience {
            let settled = try await runner.run(connection, endpoint: "audience", attempts: &attempts) {
                try await connection.api.deleteAudience(audience)
            }
            switch settled {
            case .done, .partial:
                var deleted = directory.live(key) ?? audienceMapping(batch, key, id: audience, name: "")
                deleted.deleted = true
                try await directory.record(deleted)
                logger.info("destination audience deleted", [("connection", .string(connection.id)), ("audience", .string(batch.audienceID)), ("destination_audience", .string(audience))])
                try await finish(upload, started: started, destinationID: audience, attempts: attempts, accepted: 0, refused: [], reason: "", completion)
            case .failed(let failure, let reason):
                try await finish(upload, started: started, destinationID: audience, attempts: attempts, accepted: 0,
                                 refused: [RefusedItem(index: -1, code: failure.code, message: failure.message)], reason: reason, completion)
            }
            return
        }
        guard !batch.users.isEmpty else {
            try await finish(upload, started: started, destinationID: audience, attempts: 0, accepted: 0, refused: [], reason: "", completion)
            return
        }
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

    /// The most item errors one result lists; the DLQ holds every refused user.
    static let maxResultErrors = 1_000

    /// Writes the batch's result and, per destination code, dead letters holding the refused users as batches
    /// of their own (replayable as they are), split so that none exceeds the record limit; all of them count
    /// toward the poll's completion.
    /// - Parameter refused: index -1 stands for the batch itself (a delete-audience that failed).
    private func finish(
        _ upload: BatchUpload, started: ContinuousClock.Instant, destinationID: String, attempts: Int, accepted: Int, refused: [RefusedItem],
        reason: String, _ completion: BatchCompletion
    ) async throws(KafkaError) {
        let batch = upload.batch
        let now = clock()
        let elapsed = ContinuousClock.now - started
        // Metric labels only for configured connections: a record must not mint series.
        let label = connections[batch.connectionID] == nil ? "unknown" : batch.connectionID
        var records = OutgoingRecords()
        var byCode: [String: [RefusedItem]] = [:]
        for item in refused { byCode[item.code, default: []].append(item) }
        var letterCount = 0
        for (code, items) in byCode.sorted(by: { $0.key < $1.key }) {
            for letter in deadLetters(upload, code: code, items: items, reason: reason, at: now) {
                records.append(letter)
                letterCount += 1
            }
        }
        if letterCount > 0 { metrics.deadLettered(reason, count: letterCount) }
        let status: BatchStatus = refused.isEmpty ? .succeeded : (accepted > 0 ? .partial : .failed)
        let result = BatchResult(
            batchID: batch.batchID, connectionID: batch.connectionID, audienceID: batch.audienceID, destinationAudienceID: destinationID,
            operation: batch.operation, status: status, attempted: Int32(batch.users.count), succeeded: Int32(accepted),
            // Codes only, and a bounded number: a destination's message may quote what it refused, and results
            // have wider readers than the DLQ.
            errors: refused.prefix(Self.maxResultErrors).map { ItemError(index: Int32($0.index), code: $0.code) }, attempts: Int32(attempts),
            completedAtMilliseconds: now, latencyMilliseconds: Int64(elapsed.inSeconds * 1000))
        let headers = records.standardHeaders(for: BatchResult.self, trace: upload.source)
        records.append(result, topic: TopicNames.results, placement: .byKey, headers: headers, key: Array("\(batch.connectionID)/\(batch.audienceID)".utf8))
        try await producer.send(records, completion: completion)
        metrics.batch(
            label, batch.operation, status: status == .succeeded ? "succeeded" : status == .partial ? "partial" : "failed",
            accepted: accepted, refused: refused.count, seconds: elapsed.inSeconds)
        if !refused.isEmpty {
            logger.warning(
                "batch finished with refusals; the refused users are in the DLQ",
                [("connection", .string(batch.connectionID)), ("audience", .string(batch.audienceID)), ("batch", .string(batch.batchID)),
                 ("reason", .string(reason)), ("refused", .integer(refused.count)), ("accepted", .integer(accepted)),
                 ("codes", .string(byCode.keys.sorted().joined(separator: ",")))])
        }
    }

    /// The dead letters of one code: the refused users in batches of their own, as many letters as the record
    /// limit needs (a letter carries its batch whole, so the users are split by their encoded size).
    private func deadLetters(_ upload: BatchUpload, code: String, items: [RefusedItem], reason: String, at now: Int64) -> [DeadLetter] {
        let batch = upload.batch
        let users = items.compactMap { batch.users.indices.contains($0.index) ? batch.users[$0.index] : nil }
        // Room for the letter's own fields and headers, the batch's fields, and the detail.
        let budget = max(recordBytes - 16_384, 1_024)
        var groups: [[BatchUser]] = [[]]
        var size = 0
        for user in users {
            let userSize = user.serializedBytes().count + 8
            if size + userSize > budget, !(groups[groups.count - 1].isEmpty) {
                groups.append([])
                size = 0
            }
            groups[groups.count - 1].append(user)
            size += userSize
        }
        // Bounded, and without the connection's credentials should the destination echo a request's headers.
        let message = String((connections[batch.connectionID]?.credentials.redact(items[0].message) ?? items[0].message).prefix(300))
        return groups.enumerated().map { part, group in
            var letter = batch
            letter.users = group
            let share = groups.count > 1 ? " (part \(part + 1) of \(groups.count))" : ""
            return DeadLetter(
                stage: stage, reason: reason, source: upload.source, errorCode: code,
                detail: "\(items.count) of \(max(batch.users.count, 1)) refused\(share): \(message)", occurredAtMilliseconds: now,
                payloadType: Batch.protoName, payload: letter.serializedBytes())
        }
    }
}
