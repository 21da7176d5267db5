/// The kinds of identifier CohortSync forwards (DESIGN §5): the one identifier type of every module,
/// from configuration and identity rules to the wire, the batcher, the uploaders and the sandbox.
public enum IdentifierType: Int32, NamedProtoEnum, Comparable {
    case unspecified = 0, email, phone, idfa, gaid, androidID, xHandle, xID

    /// Every kind a member can carry (all but `unspecified`), in wire order.
    public static let kinds: [IdentifierType] = specified

    /// The name in configuration, the native input's `user` object and the CLI: `email`, `android_id`, `x_id`.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .email: "email"
        case .phone: "phone"
        case .idfa: "idfa"
        case .gaid: "gaid"
        case .androidID: "android_id"
        case .xHandle: "x_handle"
        case .xID: "x_id"
        }
    }

    public static func < (lhs: IdentifierType, rhs: IdentifierType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Advertising consent as the upstream event stated it.
public enum Consent: Int32, ProtoEnum {
    /// No consent flag on the event: allowed.
    case unspecified = 0
    case granted, denied
}

/// What happened to a member of an audience.
public enum MemberAction: Int32, ProtoEnum {
    case unspecified = 0, enter, exit, snapshotMember, consentWithdrawn
}

/// Whether a snapshot marker opens or closes a snapshot.
public enum SnapshotPhase: Int32, ProtoEnum {
    case unspecified = 0, begin, end
}

/// Lifecycle events of an upstream audience.
public enum AudienceEvent: Int32, ProtoEnum {
    case unspecified = 0, created, renamed, deleted
}

/// The ad platforms CohortSync uploads to, each with its own identifier rules (DESIGN §5): the one
/// destination type of every module.
public enum Destination: Int32, NamedProtoEnum {
    case unspecified = 0, x, tiktok

    /// Every platform (all but `unspecified`).
    public static let platforms: [Destination] = specified

    /// The name in configuration, the CLI and the sandbox: `x`, `tiktok`.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .x: "x"
        case .tiktok: "tiktok"
        }
    }
}

/// What a batch asks the destination to do.
public enum BatchOperation: Int32, ProtoEnum {
    case unspecified = 0, add, remove, deleteAudience
}

/// What an operator decided about a held removal.
public enum HoldAction: Int32, ProtoEnum {
    case unspecified = 0, confirm, discard
}

/// How a batch ended at the destination.

public enum BatchStatus: Int32, ProtoEnum {
    case unspecified = 0, succeeded, partial, failed
}

/// A wire enum whose cases also have names outside the wire (configuration, CLI, input, the sandbox).
public protocol NamedProtoEnum: ProtoEnum {
    /// The case's name; `unspecified` names no real case.
    var name: String { get }
}

extension NamedProtoEnum {
    /// Every case but `unspecified`, in wire order.
    public static var specified: [Self] { allCases.filter { $0 != .unspecified } }

    /// The case named `name`; nil for an unknown name and for `unspecified`.
    public init?(name: String) {
        guard let named = Self.specified.first(where: { $0.name == name }) else { return nil }
        self = named
    }
}
