import Wire

/// One fully populated value of every message, so round trips exercise every field.
enum WireSamples {
    static let digest = (0..<32).map { UInt8($0 * 7 % 256) }
    static let otherDigest = (0..<32).map { UInt8(255 - $0) }
    static let source = SourcePosition(topic: "cdp.audiences", partition: 3, offset: 9_876_543_210)
    static let raw = RawIdentifiers(
        email: "Ada@Example.com", phone: "+1 (555) 123-4567", idfa: "AEBE52E7-03EE-455A-B3C4-E57283966239",
        gaid: "38400000-8cf0-11bd-b23e-10b96e40000d", androidID: "9774d56d682e549c", xHandle: "@AdsAPI", xID: "783214")
    static let change = MemberChange(
        audienceID: "aud_42", userKey: "u_1", action: .enter, snapshotID: "s-20261123", identifiers: raw, consent: .denied,
        eventTimeMilliseconds: 1_795_460_400_000)
    static let marker = SnapshotMarker(
        audienceID: "aud_42", snapshotID: "s-20261123", phase: .end, declaredMembers: 123_456, receivedMembers: 123_455,
        complete: false, partitionCount: 12, beganAtMilliseconds: 1_795_460_399_000)
    static let lifecycle = AudienceLifecycle(audienceID: "aud_42", name: "High value buyers ✓", event: .renamed, eventTimeMilliseconds: 42)
    static let hashedIdentifiers = [HashedIdentifier(type: .email, sha256: digest), HashedIdentifier(type: .xHandle, sha256: otherDigest)]
    static let member = HashedMember(
        connectionID: "x-main", audienceID: "aud_42", userKey: "u_1", action: .consentWithdrawn, snapshotID: "s-1",
        identifiers: hashedIdentifiers, eventTimeMilliseconds: 7)
    static let batch = Batch(
        batchID: "b-1", connectionID: "x-main", audienceID: "aud_42", audienceName: "High value buyers", destination: .tiktok,
        operation: .remove, users: [BatchUser(userKey: "u_1", identifiers: hashedIdentifiers), BatchUser(userKey: "u_2", identifiers: [])],
        createdAtMilliseconds: 1_795_460_400_123, scope: .phone)
    static let result = BatchResult(
        batchID: "b-1", connectionID: "x-main", audienceID: "aud_42", destinationAudienceID: "1nmth", operation: .add,
        status: .partial, attempted: 2_500, succeeded: 2_498,
        errors: [ItemError(index: 3, code: "INVALID_USER_ID", message: "not a digest"), ItemError(index: -1, code: "x", message: "")],
        attempts: 3, completedAtMilliseconds: 99, latencyMilliseconds: 1_250)
    static let deadLetter = DeadLetter(
        stage: "ingest", reason: "invalid-json", source: source, redactedExcerpt: "{\"type\":\"membership\",\"user\":{\"email\":\"[redacted]\"", errorCode: "E1",
        detail: "unexpected end of input at byte 57", occurredAtMilliseconds: 5, payloadType: "cohortsync.v1.Batch", payload: [1, 2, 3])
    static let mapping = AudienceMapping(
        connectionID: "x-main", audienceID: "aud_42", scope: "email", destination: .x, destinationAudienceID: "1nmth",
        name: "High value buyers (email)", createdAtMilliseconds: 11, deleted: true)
    static let state = MemberState(
        connectionID: "x-main", audienceID: "aud_42", userKey: "u_1", sent: hashedIdentifiers, lastSnapshotID: "s-20261123",
        updatedAtMilliseconds: 13, seenSequence: 4, flush: 9,
        previous: [HashedIdentifier(type: .phone, sha256: otherDigest)])
    static let withdrawal = WithdrawalState(
        connectionID: "x-main", audienceID: "aud_1", userKey: "u_1", withdrawnAtMilliseconds: 1_795_460_400_000, recordedAtMilliseconds: 1_795_460_401_000)
    static let audienceState = AudienceState(
        connectionID: "x-main", audienceID: "aud_42", name: "High value buyers", snapshotSequence: 7, openSnapshotID: "s-2",
        deleted: true, onceApplied: true, heldSequence: 6, heldSnapshotID: "s-1", heldRemovals: 1_234, confirmedFlush: 8,
        openSnapshotBeganAtMilliseconds: 1_795_460_399_000)
    static let hold = HoldDecision(connectionID: "x-main", audienceID: "aud_42", action: .discard, snapshotID: "s-1", decidedAtMilliseconds: 17)
}
