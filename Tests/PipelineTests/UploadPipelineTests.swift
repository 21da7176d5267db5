import Foundation
import Kafka
import Observability
import Synchronization
import TestSupport
import Testing
import Wire

extension BatcherPipelineTests {
/// The uploaders as processes, between the local broker and the sandbox: batches written to the batches
/// topics, the sandbox's audiences compared with a model of the batches, hash for hash. Nested in the batcher's
/// serialized suite so the two heaviest process suites never load the machine at once.
@Suite("Uploaders against the sandbox", .timeLimit(.minutes(4)))
struct Uploaders {
    let logger = Logger(stage: "upload-test", minimumLevel: .warning)

    /// The results of `batches` read so far.
    static func results(_ records: [ConsumerRecord], of batches: [Batch]) -> [BatchResult] {
        let ids = Set(batches.map(\.batchID))
        return records.filter { $0.topic == TopicNames.results }.compactMap { try? BatchResult(serializedBytes: $0.value) }.filter { ids.contains($0.batchID) }
    }

    /// Waits until every audience of the model is in the sandbox as the model says (and nothing else is);
    /// on timeout the error says how they differ.
    static func waitForExact(_ harness: UploadHarness, _ destination: Destination, _ expected: ExpectedAudiences, timeout: Duration = .seconds(90)) async throws {
        let live = expected.members.keys.filter { !expected.deleted.contains($0) || !(expected.members[$0] ?? []).isEmpty }
        do {
            try await waitFor("\(destination.name) audiences to match the batches", timeout: timeout) {
                guard let audiences = try? await harness.audiences(destination) else { return false }
                guard audiences.count == live.count else { return false }
                return live.allSatisfy { audience in audiences.contains { $0.name.hasPrefix("\(audience) \(harness.suffix)") && $0.digests == expected.digests(audience) } }
            }
        } catch {
            let audiences = (try? await harness.audiences(destination)) ?? []
            let found = audiences.map { "\($0.name): \($0.memberCount)" }.sorted().joined(separator: ", ")
            let wanted = live.sorted().map { "\($0): \(expected.digests($0).count)" }.joined(separator: ", ")
            throw TestSupportError("\(error); the sandbox holds [\(found)], the model [\(wanted)]")
        }
    }

    @Test("each destination: the audience created on its first batch, adds and removes in order, a per-identifier name, deleted on delete-audience; one result per batch")
    func lifecycle() async throws {
        let harness = try await UploadHarness(logger: logger)
        defer { harness.stop() }
        let tail = try await TopicTail([TopicNames.results, TopicNames.audiences], fromEnd: true, logger: logger)
        let x = try await harness.start(.x)
        let tiktok = try await harness.start(.tiktok)
        defer {
            x.process.stop()
            tiktok.process.stop()
        }
        let plan: [(String, BatchOperation, [Int])] = [
            ("keep", .add, Array(0..<50)), ("keep", .remove, Array(10..<20)), ("keep", .add, [15, 60]), ("gone", .add, [1, 2, 3]), ("gone", .deleteAudience, []),
            ("scoped", .add, [7]), ("never", .remove, [4]),
        ]
        var batches: [Batch] = []
        for destination in Destination.platforms {
            for (audience, operation, users) in plan {
                batches.append(harness.batch(destination, audience, operation, users, scope: audience == "scoped" ? .email : .unspecified))
            }
        }
        try await harness.send(batches)
        let sent = batches
        let records = try await tail.wait(for: "one result per batch") { Self.results($0, of: sent).count >= sent.count }
        let results = Self.results(records, of: batches)
        #expect(results.count == batches.count)
        #expect(results.allSatisfy { $0.status == .succeeded && $0.attempts <= 2 }, "\(results.filter { $0.status != .succeeded })")
        for destination in Destination.platforms {
            let audiences = try await harness.audiences(destination)
            #expect(audiences.map(\.name).sorted() == ["keep \(harness.suffix)", "scoped \(harness.suffix) (email)"], "\(destination.name)")
            let keep = try #require(audiences.first { $0.name == "keep \(harness.suffix)" })
            #expect(keep.digests == Set((Array(0..<10) + Array(20..<50) + [15, 60]).map(UploadHarness.emailHex)))
            #expect(keep.memberCount == 42)
            #expect(audiences.first { $0.name.hasPrefix("scoped") }?.digests == [UploadHarness.emailHex(7)])
        }
        await tail.close()
        let mappings = records.filter { $0.topic == TopicNames.audiences }.compactMap { try? AudienceMapping(serializedBytes: $0.value) }
            .filter { $0.connectionID == harness.xConnection || $0.connectionID == harness.tiktokConnection }
        #expect(mappings.filter { !$0.createIntent }.count == 8, "three audiences created and one deleted per destination")
        #expect(mappings.filter(\.createIntent).count == 6, "an intent written before each create")
        #expect(mappings.filter(\.createIntent).allSatisfy { $0.deleted && $0.destinationAudienceID.isEmpty }, "a version without intents reads one as no audience")
        #expect(mappings.filter { $0.deleted && !$0.createIntent }.map(\.audienceID).sorted() == ["gone-\(harness.suffix)", "gone-\(harness.suffix)"])
        #expect(mappings.filter { $0.audienceID.hasPrefix("scoped") }.allSatisfy { $0.scope == "email" && $0.name.hasSuffix(" (email)") })
    }

    @Test("three TikTok replicas joining while audiences are being created create each audience once and apply its batches in order")
    func racingReplicas() async throws {
        // Slow answers keep creations and uploads in flight while the partitions move between replicas.
        let harness = try await UploadHarness(sandboxFlags: ["--faults", #"{"tiktok":{"latency_ms":300}}"#], logger: logger)
        defer { harness.stop() }
        var expected = ExpectedAudiences()
        var batches: [Batch] = []
        // Adds and removes of overlapping users: the audiences end as the model says only if each audience's
        // batches are applied in order across the handovers.
        for round in 0..<10 {
            for audience in ["a", "b", "c", "d", "e", "f", "g", "h"] {
                let operation: BatchOperation = round % 3 == 2 ? .remove : .add
                let users = Array((round * 6)..<(round * 6 + 12))
                batches.append(harness.batch(.tiktok, audience, operation, users))
                expected.apply(audience, operation, users)
            }
        }
        try await harness.send(batches)
        var replicas: [(process: ChildProcess, port: Int)] = []
        defer { for replica in replicas { replica.process.stop() } }
        replicas.append(try await harness.start(.tiktok, ["--concurrency", "2"]))
        let first = replicas[0].port
        try await waitFor("the first replica to create most audiences", timeout: .seconds(60)) {
            await harness.metric("cohortsync_upload_audiences_created_total", port: first) >= 6
        }
        // The next two join now: the first keeps a third of the partitions, so it gives up audiences it created
        // (and creations may be in flight); their new owners must find those audiences in the mapping topic.
        replicas.append(try await harness.start(.tiktok, ["--concurrency", "2"], waitForReady: false))
        replicas.append(try await harness.start(.tiktok, ["--concurrency", "2"], waitForReady: false))
        try await Self.waitForExact(harness, .tiktok, expected)
        let audiences = try await harness.audiences(.tiktok)
        #expect(audiences.count == 8)
        #expect(Set(audiences.map(\.name)).count == 8, "an audience was created twice: \(audiences.map(\.name).sorted())")
        var created = 0.0
        for replica in replicas { created += await harness.metric("cohortsync_upload_audiences_created_total", port: replica.port) }
        #expect(created == 8)
        var owners = 0
        for replica in replicas where await harness.metric("cohortsync_upload_batches_total", port: replica.port) > 0 { owners += 1 }
        #expect(owners >= 2, "the partitions moved while the work went on")
    }

    @Test("a create intent left by an uploader killed before its mapping: the audience TikTok made is adopted, never created twice; an intent whose create was never sent creates once; a delete finds and deletes an intent's audience")
    func createIntentAdopted() async throws {
        let harness = try await UploadHarness(logger: logger)
        defer { harness.stop() }
        // What a SIGKILL between TikTok's create and its mapping's acknowledgement leaves: the intent on the
        // mapping topic and the audience at TikTok. A second intent stands for one killed before its create; a
        // third's audience is deleted upstream before any batch of it was uploaded.
        let orphan = try await harness.createTikTokAudience(named: "orphan \(harness.suffix)")
        _ = try await harness.createTikTokAudience(named: "gone \(harness.suffix)")
        var out = OutgoingRecords()
        let headers = out.standardHeaders(for: AudienceMapping.self, trace: SourcePosition(topic: "test", partition: 0, offset: 0))
        for audience in ["orphan", "unsent", "gone"] {
            let intent = AudienceMapping(
                connectionID: harness.tiktokConnection, audienceID: "\(audience)-\(harness.suffix)", destination: .tiktok, name: "\(audience) \(harness.suffix)",
                createdAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) - 2_000, deleted: true, createIntent: true)
            out.append(intent, topic: TopicNames.audiences, placement: .byKey, headers: headers, key: Array("\(harness.tiktokConnection)/\(intent.audienceID)/".utf8))
        }
        try await harness.producer.deliver(out)
        var expected = ExpectedAudiences()
        let plan: [(String, BatchOperation, [Int])] = [("orphan", .add, [1, 2, 3]), ("unsent", .add, [4, 5]), ("orphan", .remove, [2]), ("gone", .deleteAudience, [])]
        for (audience, operation, users) in plan { expected.apply(audience, operation, users) }
        try await harness.send(plan.map { harness.batch(.tiktok, $0.0, $0.1, $0.2) })
        let uploader = try await harness.start(.tiktok)
        defer { uploader.process.stop() }
        try await Self.waitForExact(harness, .tiktok, expected)
        let audiences = try await harness.audiences(.tiktok)
        #expect(audiences.count == 2, "the one adopted, the one created, not the one deleted: \(audiences.map(\.name).sorted())")
        #expect(audiences.first { $0.name == "orphan \(harness.suffix)" }?.id == orphan)
        #expect(await harness.metric("cohortsync_upload_audiences_created_total", port: uploader.port) == 1)
        #expect(await harness.metric("cohortsync_upload_audiences_adopted_total", port: uploader.port) == 2, "the orphan, and the deleted one's to delete it")
    }

    @Test("a create whose answer is lost (made, never heard of) is looked for before it is sent again: each destination ends with one audience")
    func lostCreateAnswer() async throws {
        let harness = try await UploadHarness(logger: logger)
        defer { harness.stop() }
        let x = try await harness.start(.x)
        let tiktok = try await harness.start(.tiktok)
        defer {
            x.process.stop()
            tiktok.process.stop()
        }
        // The first request of each API is the create: the sandbox makes the audience and closes the connection.
        try await harness.setFaults(#"{"x":{"lost_answer_burst":1},"tiktok":{"lost_answer_burst":1}}"#)
        var expected = ExpectedAudiences()
        expected.apply("lost", .add, [1, 2, 3])
        try await harness.send(Destination.platforms.map { harness.batch($0, "lost", .add, [1, 2, 3]) })
        for destination in Destination.platforms {
            try await Self.waitForExact(harness, destination, expected)
            #expect(try await harness.audiences(destination).count == 1, "\(destination.name)")
        }
        #expect(await harness.metric("cohortsync_upload_retries_total", port: tiktok.port) >= 1, "the lost answer was retried")
        #expect(await harness.metric("cohortsync_upload_audiences_created_total", port: tiktok.port) == 0, "adopted, not created by a second create")
        #expect(await harness.metric("cohortsync_upload_audiences_adopted_total", port: tiktok.port) == 1)
    }

    @Test("10 % 5xx, 429 bursts and 200 ms latency on both APIs: the audiences end exact", .timeLimit(.minutes(4)))
    func faults() async throws {
        let faults = #"{"x":{"errors":{"500":0.05,"503":0.05},"rate_limit_burst":3,"latency_ms":200},"tiktok":{"errors":{"50000":0.1},"rate_limit_burst":3,"latency_ms":200}}"#
        let harness = try await UploadHarness(sandboxFlags: ["--faults", faults, "--rate-window-seconds", "2"], logger: logger)
        defer { harness.stop() }
        let x = try await harness.start(.x, ["--max-attempts", "30"])
        let tiktok = try await harness.start(.tiktok, ["--max-attempts", "30"])
        defer {
            x.process.stop()
            tiktok.process.stop()
        }
        var generator = SeededRandom(seed: 7)
        var expected = ExpectedAudiences()
        var batches: [Batch] = []
        for _ in 0..<25 {
            let audience = ["p", "q", "r"].randomElement(using: &generator)!
            let operation: BatchOperation = Int.random(in: 0..<3, using: &generator) == 0 ? .remove : .add
            let users = (0..<20).map { _ in Int.random(in: 0..<200, using: &generator) }
            for destination in Destination.platforms { batches.append(harness.batch(destination, audience, operation, users)) }
            expected.apply(audience, operation, users)
        }
        try await harness.send(Array(batches.prefix(batches.count / 2)))
        try await harness.setFaults(faults)  // a second round of 429 bursts mid-run
        try await harness.send(Array(batches.suffix(from: batches.count / 2)))
        try await Self.waitForExact(harness, .x, expected, timeout: .seconds(150))
        try await Self.waitForExact(harness, .tiktok, expected, timeout: .seconds(60))
        #expect(await harness.metric("cohortsync_upload_retries_total", port: x.port) > 0, "the faults were hit and retried")
        #expect(await harness.metric("cohortsync_upload_retries_total", port: tiktok.port) > 0)
        // Other suites' batches on the shared topics are dead-lettered as unknown-connection: only this test's count.
        #expect(await harness.metric("cohortsync_upload_refused_total", labels: harness.xConnection, port: x.port) == 0)
        #expect(await harness.metric("cohortsync_upload_refused_total", labels: harness.tiktokConnection, port: tiktok.port) == 0)
    }

    @Test("a revoked token pauses the connection without holding up a rebalance; restored, it resumes and nothing is lost")
    func revokedToken() async throws {
        let harness = try await UploadHarness(sandboxFlags: ["--faults", #"{"tiktok":{"token_revoked":true},"x":{"token_revoked":true}}"#], logger: logger)
        defer { harness.stop() }
        let x = try await harness.start(.x)
        let tiktok = try await harness.start(.tiktok)
        defer {
            x.process.stop()
            tiktok.process.stop()
        }
        var expected = ExpectedAudiences()
        var batches: [Batch] = []
        for (operation, users) in [(BatchOperation.add, Array(0..<30)), (.remove, Array(0..<5)), (.add, [100])] {
            for destination in Destination.platforms { batches.append(harness.batch(destination, "paused", operation, users)) }
            expected.apply("paused", operation, users)
        }
        try await harness.send(batches)
        for replica in [x, tiktok] {
            try await waitFor("the connection to pause", timeout: .seconds(30)) {
                await harness.metric("cohortsync_upload_connection_paused", port: replica.port) == 1
            }
        }
        // A replica joining now gets partitions at once: the paused uploads give their batches back at the
        // revocation instead of holding the rebalance until the credential returns.
        let joining = ContinuousClock.now
        let joined = try await harness.start(.tiktok)
        defer { joined.process.stop() }
        // Without the revoking hook the rebalance waits for the paused uploads until the consumer's 30 s
        // revocation timeout; with it, for the hook's 3 s grace.
        #expect(ContinuousClock.now - joining < .seconds(10), "the rebalance waited for the paused uploads")
        #expect(await harness.metric("cohortsync_upload_connection_paused", port: x.port) == 1)
        #expect(try await harness.audiences(.x).isEmpty)
        #expect(try await harness.audiences(.tiktok).isEmpty)
        try await harness.setFaults(#"{"tiktok":{"token_revoked":false},"x":{"token_revoked":false}}"#)
        try await Self.waitForExact(harness, .x, expected, timeout: .seconds(30))
        try await Self.waitForExact(harness, .tiktok, expected, timeout: .seconds(30))
        for replica in [x, tiktok, joined] {
            #expect(await harness.metric("cohortsync_upload_connection_paused", port: replica.port) == 0)
            #expect(await harness.metric("cohortsync_upload_refused_total", labels: harness.connection(replica.port == x.port ? .x : .tiktok), port: replica.port) == 0)
        }
        #expect(await harness.metric("cohortsync_upload_requests_total", labels: "outcome=\"credential_refused\"", port: x.port) >= 2)
    }

    @Test("users the destination refuses (X operation_errors, TikTok partial success) go to the DLQ with its code; the rest count as done")
    func partialRefusals() async throws {
        let harness = try await UploadHarness(logger: logger)
        defer { harness.stop() }
        let tail = try await TopicTail([TopicNames.results, TopicNames.deadLetters], fromEnd: true, logger: logger)
        let x = try await harness.start(.x)
        let tiktok = try await harness.start(.tiktok)
        defer {
            x.process.stop()
            tiktok.process.stop()
        }
        var batches: [Batch] = []
        for destination in Destination.platforms {
            var batch = harness.batch(destination, "mixed", .add, [1, 2, 3, 4])
            // A digest one byte short: the destination refuses that user alone.
            batch.users[2].identifiers[0].sha256.removeLast()
            batches.append(batch)
        }
        try await harness.send(batches)
        let sent = batches
        let records = try await tail.wait(for: "results and dead letters") { records in
            Self.results(records, of: sent).count == 2 && records.filter { $0.topic == TopicNames.deadLetters }.count >= 2
        }
        let results = Self.results(records, of: batches)
        #expect(results.count == 2)
        for result in results {
            #expect(result.status == .partial)
            #expect(result.attempted == 4)
            #expect(result.succeeded == 3)
            #expect(result.errors.map(\.index) == [2])
        }
        let letters = records.filter { $0.topic == TopicNames.deadLetters }.compactMap { try? DeadLetter(serializedBytes: $0.value) }
            .filter { $0.stage.hasPrefix("upload-") }
        #expect(letters.count == 2)
        #expect(Set(letters.map { "\($0.stage) \($0.errorCode)" }) == ["upload-x INVALID_USER_DATA", "upload-tiktok 40062"])
        for letter in letters {
            #expect(letter.reason == "refused-by-destination")
            let refused = try Batch(serializedBytes: letter.payload)
            #expect(refused.users.map(\.userKey) == ["user-3"])
        }
        for destination in Destination.platforms {
            let audiences = try await harness.audiences(destination)
            #expect(audiences.count == 1)
            #expect(audiences.first?.digests == Set([1, 2, 4].map(UploadHarness.emailHex)))
        }
        await tail.close()
    }

    @Test("records that are no batch to act on are dead-lettered, never uploaded; refusals too many for one record are split; the uploader goes on")
    func hostileBatches() async throws {
        let harness = try await UploadHarness(logger: logger)
        defer { harness.stop() }
        let tail = try await TopicTail([TopicNames.results, TopicNames.deadLetters], fromEnd: true, logger: logger)
        let x = try await harness.start(.x)
        let tiktok = try await harness.start(.tiktok, ["--max-record-bytes", "200000"])
        defer {
            x.process.stop()
            tiktok.process.stop()
        }
        var unknownOperation = harness.batch(.x, "hostile", .add, [5, 6])
        unknownOperation.operation = .unspecified
        var stranger = harness.batch(.tiktok, "big", .add, Array(0..<10_000))
        stranger.connectionID = "decommissioned-\(harness.suffix)"
        let good = harness.batch(.x, "hostile", .add, [1, 2])
        try await harness.send([unknownOperation])
        _ = try await harness.producer.send(ProducerRecord(topic: TopicNames.batchesX, key: Array("\(harness.xConnection)/hostile".utf8), value: []))
        // Bytes that are no batch and too large to keep in a dead letter under the TikTok uploader's 200,000-byte limit.
        _ = try await harness.producer.send(ProducerRecord(
            topic: TopicNames.batchesTikTok, key: Array("\(harness.tiktokConnection)/big".utf8), value: [UInt8](repeating: 0xFF, count: 190_000)))
        try await harness.send([stranger, good])
        let sent = [stranger, good]
        let strangerID = stranger.batchID
        let records = try await tail.wait(for: "the results and the dead letters") { records in
            let letters = records.filter { $0.topic == TopicNames.deadLetters }.compactMap { try? DeadLetter(serializedBytes: $0.value) }
            let strangers = letters.filter { $0.errorCode == "unknown-connection" }.compactMap { try? Batch(serializedBytes: $0.payload) }
                .filter { $0.batchID == strangerID }
            return Self.results(records, of: sent).count == 2 && strangers.reduce(0) { $0 + $1.users.count } >= 10_000
                && letters.filter { $0.reason == "invalid-batch" && $0.stage == "upload-x" }.count >= 2
                && letters.contains { $0.reason == "invalid-batch" && $0.stage == "upload-tiktok" }
        }
        let letters = records.filter { $0.topic == TopicNames.deadLetters }.compactMap { record in (try? DeadLetter(serializedBytes: record.value)).map { (record.value.count, $0) } }
        let invalid = letters.map(\.1).filter { $0.reason == "invalid-batch" && $0.stage == "upload-x" }
        #expect(invalid.count == 2, "the unknown operation and the empty record")
        #expect(invalid.contains { $0.detail.contains("operation") })
        #expect(invalid.contains { $0.detail.contains("empty") })
        let oversized = letters.map(\.1).filter { $0.reason == "invalid-batch" && $0.stage == "upload-tiktok" }
        #expect(oversized.count == 1)
        #expect(oversized.first?.payload.isEmpty == true && oversized.first?.detail.contains("too large to keep") == true)
        let parts = letters.filter { $0.1.errorCode == "unknown-connection" && ((try? Batch(serializedBytes: $0.1.payload))?.batchID == stranger.batchID) }
        #expect(parts.count >= 3, "10,000 users do not fit one 200,000-byte record")
        #expect(parts.allSatisfy { $0.0 <= 200_000 })
        let refusedUsers = try parts.flatMap { try Batch(serializedBytes: $0.1.payload).users.map(\.userKey) }
        #expect(refusedUsers.count == 10_000)
        #expect(Set(refusedUsers).count == 10_000)
        let results = Self.results(records, of: sent)
        #expect(results.first { $0.batchID == stranger.batchID }?.status == .failed)
        #expect((results.first { $0.batchID == stranger.batchID }?.errors.count ?? 0) <= 1_000)
        #expect(results.first { $0.batchID == good.batchID }?.status == .succeeded)
        let audiences = try await harness.audiences(.x)
        #expect(audiences.count == 1)
        #expect(audiences.first?.digests == Set([1, 2].map(UploadHarness.emailHex)), "the batch of unknown operation was not taken as an add")
        #expect(x.process.isRunning && tiktok.process.isRunning)
        #expect(await harness.metric("cohortsync_upload_batch_seconds_count", labels: "decommissioned", port: tiktok.port) == 0, "a record's connection id minted a series")
        #expect(await harness.metric("cohortsync_upload_batch_seconds_count", labels: "connection=\"unknown\"", port: tiktok.port) >= 1)
        await tail.close()
    }

    @Test("an uploader SIGKILLed mid-run and restarted: the sandbox ends exact (operations sent again are harmless)")
    func killedMidRun() async throws {
        let harness = try await UploadHarness(sandboxFlags: ["--faults", #"{"x":{"latency_ms":150},"tiktok":{"latency_ms":150}}"#], logger: logger)
        defer { harness.stop() }
        var expected = ExpectedAudiences()
        var batches: [Batch] = []
        for round in 0..<12 {
            for audience in ["k", "l"] {
                let operation: BatchOperation = round % 3 == 2 ? .remove : .add
                let users = Array((round * 7)..<(round * 7 + 15))
                batches.append(harness.batch(.tiktok, audience, operation, users))
                expected.apply(audience, operation, users)
            }
        }
        try await harness.send(batches)
        let first = try await harness.start(.tiktok, ["--concurrency", "1"], instance: "pod-0")
        try await waitFor("a few batches to be uploaded", timeout: .seconds(60)) {
            await harness.metric("cohortsync_upload_batches_total", port: first.port) >= 4
        }
        let createdBefore = await harness.metric("cohortsync_upload_audiences_created_total", port: first.port)
        first.process.send(SIGKILL)
        _ = await first.process.waitForExit(timeout: .seconds(10))
        let done = try await harness.audiences(.tiktok)
        #expect(done.count >= 1)
        let second = try await harness.start(.tiktok, instance: "pod-0")
        defer { second.process.stop() }
        try await Self.waitForExact(harness, .tiktok, expected)
        // TikTok names are not unique: an audience created again would be a second one, and the match above fails.
        let audiences = try await harness.audiences(.tiktok)
        #expect(audiences.count == 2)
        #expect(createdBefore >= 1)
    }
}
}
