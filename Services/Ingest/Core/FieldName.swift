/// A JSON member name (or literal) of at most 16 bytes packed into two little-endian words, so the scanner tells a key
/// from the native format's names with two compares instead of a byte loop per name.
///
/// No key holds a zero byte (a control character, which the scanner never accepts in a string), so zero fill
/// cannot make two names of different lengths equal. The constants are the names' bytes, which a test checks
/// against `init(packing:)`.
struct FieldName: Equatable {
    let low: UInt64
    let high: UInt64

    /// The name whose UTF-8 is `text`, nil when it is longer than 16 bytes.
    init?(packing text: Span<UInt8>) {
        guard text.count <= 16 else { return nil }
        var words: (low: UInt64, high: UInt64) = (0, 0)
        for offset in 0..<text.count {
            if offset < 8 {
                words.low |= UInt64(text[offset]) << (8 * offset)
            } else {
                words.high |= UInt64(text[offset]) << (8 * (offset - 8))
            }
        }
        self.init(words.low, words.high)
    }

    init(_ low: UInt64, _ high: UInt64 = 0) {
        self.low = low
        self.high = high
    }

    // The record's own fields.
    static let type = FieldName(0x6570_7974)
    static let audience = FieldName(0x6563_6E65_6964_7561)
    static let action = FieldName(0x6E6F_6974_6361)
    static let user = FieldName(0x7265_7375)
    static let consent = FieldName(0x74_6E65_736E_6F63)
    static let timestamp = FieldName(0x6D61_7473_656D_6974, 0x70)
    static let snapshot = FieldName(0x746F_6873_7061_6E73)
    static let members = FieldName(0x73_7265_626D_656D)
    // `audience`'s and `user`'s.
    static let id = FieldName(0x6469)
    static let name = FieldName(0x656D_616E)
    static let email = FieldName(0x6C_6961_6D65)
    static let phone = FieldName(0x65_6E6F_6870)
    static let idfa = FieldName(0x6166_6469)
    static let gaid = FieldName(0x6469_6167)
    static let androidID = FieldName(0x5F64_696F_7264_6E61, 0x6469)
    static let xHandle = FieldName(0x656C_646E_6168_5F78)
    static let xID = FieldName(0x6469_5F78)
    // `consent`'s.
    static let ads = FieldName(0x73_6461)
    // The JSON literals, read the same way.
    static let nullLiteral = FieldName(0x6C6C_756E)
    static let trueLiteral = FieldName(0x6575_7274)
    static let falseLiteral = FieldName(0x65_736C_6166)

    /// Each constant with the name it packs, for the test that holds them to it.
    static let known: [(name: String, packed: FieldName)] = [
        ("type", type), ("audience", audience), ("action", action), ("user", user), ("consent", consent), ("timestamp", timestamp),
        ("snapshot", snapshot), ("members", members), ("id", id), ("name", name), ("email", email), ("phone", phone), ("idfa", idfa),
        ("gaid", gaid), ("android_id", androidID), ("x_handle", xHandle), ("x_id", xID), ("ads", ads),
        ("null", nullLiteral), ("true", trueLiteral), ("false", falseLiteral),
    ]
}
