import Identity
import Wire

/// Identity's kinds as the wire's identifier types, and the raw values a member change carries for each.
enum IdentifierMapping {
    static func wireType(_ kind: IdentifierKind) -> IdentifierType {
        switch kind {
        case .email: .email
        case .phone: .phone
        case .idfa: .idfa
        case .gaid: .gaid
        case .androidID: .androidID
        case .xHandle: .xHandle
        case .xID: .xID
        }
    }

    /// The non-empty raw values of a change, by kind, in a fixed order.
    static func values(_ identifiers: RawIdentifiers) -> [(IdentifierKind, String)] {
        [
            (.email, identifiers.email), (.phone, identifiers.phone), (.idfa, identifiers.idfa), (.gaid, identifiers.gaid),
            (.androidID, identifiers.androidID), (.xHandle, identifiers.xHandle), (.xID, identifiers.xID),
        ].filter { !$0.1.isEmpty }
    }
}
