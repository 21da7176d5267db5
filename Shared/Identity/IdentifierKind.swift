/// The identifiers CohortSync reads from upstream, named as in the native input's `user` object.
public enum IdentifierKind: String, Sendable, Hashable, CaseIterable, Comparable {
    case email
    case phone
    case idfa
    case gaid
    case androidID = "android_id"
    case xHandle = "x_handle"
    case xID = "x_id"

    public static func < (lhs: IdentifierKind, rhs: IdentifierKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The ad platforms, each with its own identifier rules (DESIGN §5).
public enum DestinationKind: String, Sendable, Hashable, CaseIterable {
    case x
    case tiktok
}
