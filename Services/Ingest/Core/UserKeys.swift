import Foundation
import Hashing
import Wire

/// The key of a user within the pipeline: the CDP's user id, or a digest derived from the identifiers.
///
/// A derived key never contains a raw identifier: it is `sha256:` and the digest of the first present
/// identifier (in a fixed order) after trimming and lowercasing, so the same person keys the same way.
enum UserKeys {
    static func key(userID: String?, identifiers: RawIdentifiers) -> String? {
        if let userID, !userID.isEmpty { return userID }
        let ordered = [
            ("email", identifiers.email), ("phone", identifiers.phone), ("idfa", identifiers.idfa), ("gaid", identifiers.gaid),
            ("android_id", identifiers.androidID), ("x_id", identifiers.xID), ("x_handle", identifiers.xHandle),
        ]
        let trimmed = ordered.lazy.map { ($0.0, $0.1.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard let (kind, value) = trimmed.first(where: { !$0.1.isEmpty }) else { return nil }
        let canonical = kind + ":" + value.lowercased()
        return "sha256:" + SHA256Digest.hash(canonical).hex
    }
}
