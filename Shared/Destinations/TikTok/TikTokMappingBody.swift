import Wire

/// The body of `POST /segment/mapping/`: one row per user, each row one slot per `id_schema` entry in
/// the same order (`{}` where the user has no such id). A user with two ids of one kind takes a second row.
struct TikTokMappingBody {
    /// TikTok's schema name per identifier type it takes.
    static func schema(_ type: IdentifierType) -> StaticString? {
        switch type {
        case .email: "EMAIL_SHA256"
        case .phone: "PHONE_SHA256"
        case .idfa: "IDFA_SHA256"
        case .gaid: "AAID_SHA256"
        case .androidID, .xHandle, .xID, .unspecified: nil
        }
    }

    private static let order: [IdentifierType] = [.email, .phone, .idfa, .gaid]

    let body: [UInt8]
    /// The user index of each row sent, to read refused rows back as users.
    let rowUsers: [Int]
    /// Users with no id TikTok takes: refused before sending.
    let unsendable: [RefusedItem]

    init(_ operation: BatchOperation, users: [BatchUser], advertiser: String, audience: String) {
        let present = Self.order.filter { type in users.contains { $0.identifiers.contains { $0.type == type } } }
        var writer = JSONBodyWriter(capacity: 128 + users.count * 100 * max(present.count, 1))
        var rowUsers: [Int] = []
        var unsendable: [RefusedItem] = []
        writer.raw(#"{"advertiser_ids":["#)
        writer.string(advertiser)
        writer.raw(operation == .remove ? #"],"action":"delete","id_schema":["# : #"],"action":"add","id_schema":["#)
        for (slot, type) in present.enumerated() {
            if slot > 0 { writer.raw(",") }
            writer.raw("\"")
            writer.raw(Self.schema(type)!)
            writer.raw("\"")
        }
        writer.raw(#"],"batch_data":["#)
        for (index, user) in users.enumerated() {
            let columns = present.map { type in user.identifiers.filter { $0.type == type } }
            let rows = columns.map(\.count).max() ?? 0
            if rows == 0 {
                unsendable.append(RefusedItem(index: index, code: "NO_TIKTOK_IDENTIFIER", message: "the user has no email, phone, IDFA or GAID"))
                continue
            }
            for row in 0..<rows {
                if !rowUsers.isEmpty { writer.raw(",") }
                writer.raw("[")
                for (slot, column) in columns.enumerated() {
                    if slot > 0 { writer.raw(",") }
                    if row < column.count {
                        writer.raw(#"{"id":"#)
                        writer.hexString(column[row].sha256)
                        writer.raw(#","audience_ids":["#)
                        writer.string(audience)
                        writer.raw("]}")
                    } else {
                        writer.raw("{}")
                    }
                }
                writer.raw("]")
                rowUsers.append(index)
            }
        }
        writer.raw("]}")
        body = writer.bytes
        self.rowUsers = rowUsers
        self.unsendable = unsendable
    }
}
