/// Why one identifier was not forwarded. Refusals are per identifier: a user with a bad phone but a good
/// email is still sent with the email.
public enum IdentityRefusal: String, Error, Sendable, Hashable, CaseIterable {
    case invalidEmail = "invalid-email"
    case invalidPhone = "invalid-phone"
    case invalidDeviceID = "invalid-device-id"
    /// An all-zero IDFA or GAID: the device has limited ad tracking on.
    case zeroDeviceID = "zero-device-id"
    case invalidHandle = "invalid-handle"
    case invalidXID = "invalid-x-id"

    /// What to fix upstream, for logs and the `identify` command.
    public var advice: String {
        switch self {
        case .invalidEmail: "an email needs one @ with a non-empty local part and a dotted domain, and no spaces"
        case .invalidPhone: "a phone needs 8 to 15 digits with a country code (+ or 00), or a national number and the connection's defaultRegion"
        case .invalidDeviceID: "an IDFA or GAID is a UUID (8-4-4-4-12 hex digits); an Android id is 8 to 32 hex digits"
        case .zeroDeviceID: "an all-zero advertising id means the user limited ad tracking; it matches nobody"
        case .invalidHandle: "an X handle is 1 to 15 letters, digits or underscores, with or without @"
        case .invalidXID: "an X user id is a decimal number"
        }
    }
}
