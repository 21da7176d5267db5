import Identity
import Wire

/// `cohortsync identify`: shows what a destination receives for one value, the first thing to check when
/// match rates are low.
struct IdentifyCommand {
    let destination: Destination
    let kind: IdentifierType
    let defaultRegion: String?

    /// The lines to print and whether the value would be sent.
    func run(_ value: String) -> (lines: [String], sent: Bool) {
        let rules = IdentityRules(destination: destination, defaultRegion: defaultRegion)
        switch rules.normalize(kind, value) {
        case nil:
            return (["not sent: \(destination.name) does not take \(kind.name)"], false)
        case .failure(let refusal):
            return (["refused: \(refusal.rawValue)", "why: \(refusal.advice)"], false)
        case .success(let identifier):
            return ([
                "destination: \(destination.name)",
                "type:        \(kind.name)",
                "normalized:  \(identifier.normalized ?? "(already a SHA-256 digest; sent as given, lowercased)")",
                "sha256:      \(identifier.digest.hex)",
            ], true)
        }
    }
}
