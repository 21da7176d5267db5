import Wire

/// How much one batch may carry: the destination's request limits (DESIGN §6) and the record size limit of
/// the batches topic, whichever binds first.
public struct DestinationLimits: Sendable, Equatable {
    /// Users (X operations, TikTok ids) per request.
    public let maxUsers: Int
    /// Bytes of request JSON per request; nil when the destination counts only users.
    public let maxRequestBytes: Int?
    /// Bytes of the encoded `Batch` record (`--max-record-bytes`, less room for its headers and key).
    public let maxRecordBytes: Int

    public init(destination: Destination, recordBytes: Int) {
        switch destination {
        case .x:
            maxUsers = 2_500
            maxRequestBytes = 5_000_000
        case .tiktok, .unspecified:
            maxUsers = 10_000
            maxRequestBytes = nil
        }
        maxRecordBytes = recordBytes - Self.recordRoom
    }

    /// Room left in a record for the key, headers and the batch's own fields (ids and name are bounded far below).
    static let recordRoom = 4_096

    /// At most the bytes `user` adds to an encoded `Batch`: tag and length, key, and each identifier.
    static func recordBytes(of user: BatchUser) -> Int {
        8 + user.userKey.utf8.count + user.identifiers.count * 40
    }

    /// At most the bytes `user` adds to an X request: an operation's envelope, each type's key and each
    /// digest as 64 hex characters in quotes.
    static func requestBytes(of user: BatchUser) -> Int {
        200 + user.identifiers.count * 90
    }

    /// `users` cut into batches that each fit every limit, in order.
    func chunks(_ users: [BatchUser]) -> [ArraySlice<BatchUser>] {
        var chunks: [ArraySlice<BatchUser>] = []
        var start = users.startIndex
        var recordTotal = 0
        var requestTotal = 0
        for position in users.indices {
            let record = Self.recordBytes(of: users[position])
            let request = Self.requestBytes(of: users[position])
            let full =
                position - start == maxUsers || recordTotal + record > maxRecordBytes
                || maxRequestBytes.map { requestTotal + request > $0 } == true
            if full && position > start {
                chunks.append(users[start..<position])
                start = position
                recordTotal = 0
                requestTotal = 0
            }
            recordTotal += record
            requestTotal += request
        }
        if start < users.endIndex { chunks.append(users[start...]) }
        return chunks
    }
}
