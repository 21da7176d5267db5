/// Every numbering plan of the generated table, compiled once, by region and by calling code.
enum PhoneNumberingPlans {
    /// Geographic regions by ISO code (upper case).
    static let byRegion: [String: PhoneNumberingPlan] = {
        var plans: [String: PhoneNumberingPlan] = [:]
        for region in PhoneRegion.table where region.id != "001" {
            plans[region.id] = compiled(region)
        }
        return plans
    }()

    /// The plan that stands for each calling code (its main region's, or the non-geographic entry's),
    /// indexed by the code itself: an array, since parsing asks for up to four codes per number.
    private static let byCallingCodeIndex: [PhoneNumberingPlan?] = {
        var plans = [PhoneNumberingPlan?](repeating: nil, count: 1000)
        for region in PhoneRegion.table where region.isMainForCallingCode || region.id == "001" {
            plans[region.callingCode] = byRegion[region.id] ?? compiled(region)
        }
        return plans
    }()

    /// The plan of calling code `code` (1 to 999), or nil when no region uses it.
    static func plan(callingCode code: Int) -> PhoneNumberingPlan? {
        (1...999).contains(code) ? byCallingCodeIndex[code] : nil
    }

    /// How many calling codes have a plan.
    static var callingCodeCount: Int { byCallingCodeIndex.lazy.filter { $0 != nil }.count }

    /// The table is generated from libphonenumber's metadata and every pattern in it is compiled by a test
    /// (`IdentityTests`), so a failure here is a defect in the generator, never in anyone's input.
    private static func compiled(_ region: PhoneRegion) -> PhoneNumberingPlan {
        do {
            return try PhoneNumberingPlan(region)
        } catch {
            preconditionFailure("PhoneRegionTable.swift: region \(region.id): \(error); regenerate it with scripts/make-phone-metadata.py")
        }
    }
}
