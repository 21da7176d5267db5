import Foundation
import Hashing
import Wire

/// The key of a user within the pipeline: the CDP's user id, or a digest derived from the identifiers.
///
/// A derived key never contains a raw identifier: it is `sha256:` and the digest of the first present
/// identifier (in a fixed order) after trimming and lowercasing, so the same person keys the same way.
enum UserKeys {
    /// The order in which identifiers are tried for a derived key.
    private static let order: [IdentifierType] = [.email, .phone, .idfa, .gaid, .androidID, .xID, .xHandle]

    /// Where the key lies in `text`: the user id's own range, or a derived key appended to `text`. Nil when
    /// the user has neither an id nor an identifier.
    static func key(userID: Range<Int>?, identifiers: RawIdentifierRanges, text: inout FieldText) -> Range<Int>? {
        if let userID, !userID.isEmpty { return userID }
        for kind in order {
            let value = text.string(identifiers[kind]).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { continue }
            let canonical = kind.name + ":" + value.lowercased()
            return text.append(("sha256:" + SHA256Digest.hash(canonical).hex).utf8)
        }
        return nil
    }
}
