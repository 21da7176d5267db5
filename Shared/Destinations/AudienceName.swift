import Foundation
import Wire

/// Destination audience names from upstream names: characters X refuses stripped, the identifier
/// suffix added for per-identifier audiences, cut to the destination's limit.
public enum AudienceName {
    /// Characters X refuses in audience names; TikTok takes them, but one rule keeps names alike.
    public static let forbidden: Set<Character> = ["+", "&", ",", "%", ":", ";", "@", "/", "=", "?", "$"]

    /// - Parameters:
    ///   - upstream: the CDP's audience name (the audience id when it has none).
    ///   - scope: the identifier type of a per-identifier audience, `unspecified` for one audience.
    ///   - limit: the destination's maximum length in characters.
    public static func make(upstream: String, scope: IdentifierType, limit: Int) -> String {
        let suffix = scope == .unspecified ? "" : " (\(scope.name))"
        var base = String(upstream.filter { !forbidden.contains($0) && !$0.isNewline && $0 != "\t" })
            .trimmingCharacters(in: .whitespaces)
        if base.isEmpty { base = "audience" }
        let room = max(limit - suffix.count, 1)
        if base.count > room { base = String(base.prefix(room)).trimmingCharacters(in: .whitespaces) }
        return base + suffix
    }
}
