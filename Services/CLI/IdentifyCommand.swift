import Identity

/// `cohortsync identify`: shows what a destination receives for one value, the first thing to check when
/// match rates are low.
struct IdentifyCommand {
    let destination: DestinationKind
    let kind: IdentifierKind
    let defaultRegion: String?

    /// The lines to print and whether the value would be sent.
    func run(_ value: String) -> (lines: [String], sent: Bool) {
        let rules = IdentityRules(destination: destination, defaultRegion: defaultRegion)
        switch rules.normalize(kind, value) {
        case nil:
            return (["not sent: \(destination.rawValue) does not take \(kind.rawValue)"], false)
        case .failure(let refusal):
            return (["refused: \(refusal.rawValue)", "why: \(refusal.advice)"], false)
        case .success(let identifier):
            return ([
                "destination: \(destination.rawValue)",
                "type:        \(kind.rawValue)",
                "normalized:  \(identifier.normalized ?? "(already a SHA-256 digest; sent as given, lowercased)")",
                "sha256:      \(identifier.digest.hex)",
            ], true)
        }
    }
}
