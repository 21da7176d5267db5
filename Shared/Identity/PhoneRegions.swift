/// The regions a connection's `defaultRegion` may name: every region libphonenumber knows.
public enum PhoneRegions {
    /// Whether `code` (any case) is an ISO 3166 region with a numbering plan.
    public static func isKnown(_ code: String) -> Bool {
        PhoneNumberingPlans.byRegion[code.uppercased()] != nil
    }

    /// Every known region code, sorted.
    public static var all: [String] {
        PhoneNumberingPlans.byRegion.keys.sorted()
    }

}
