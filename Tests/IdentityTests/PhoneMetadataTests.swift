@testable import Identity
import Testing

@Suite("Phone metadata and the digit pattern engine")
struct PhoneMetadataTests {
    @Test("every region libphonenumber 9.0.43 knows compiles, and every calling code has a plan")
    func tableCompiles() {
        #expect(PhoneNumberingPlans.byRegion.count == 245)
        #expect(PhoneNumberingPlans.callingCodeCount == 215)
        #expect(PhoneRegions.isKnown("us") && PhoneRegions.isKnown("AX") && !PhoneRegions.isKnown("ZZ") && !PhoneRegions.isKnown("001"))
        #expect(PhoneNumberingPlans.plan(callingCode: 1)?.region.id == "US")
        #expect(PhoneNumberingPlans.plan(callingCode: 7)?.region.id == "RU")
        #expect(PhoneNumberingPlans.plan(callingCode: 800)?.region.id == "001")
    }

    static func digits(_ text: String) -> [UInt8] { text.utf8.map { $0 - 48 } }

    @Test("whole matches honour classes, counts, optional parts, alternatives and $")
    func wholeMatches() throws {
        let pattern = try DigitPattern(#"(?:1|6\d)\d{7}|[135-9]\d{5}"#)
        #expect(pattern.matchesWhole(Self.digits("612345678")))
        #expect(pattern.matchesWhole(Self.digits("11234567")))
        #expect(pattern.matchesWhole(Self.digits("312345")))
        #expect(!pattern.matchesWhole(Self.digits("412345")))
        #expect(!pattern.matchesWhole(Self.digits("6123456789")))
        let ranges = try DigitPattern(#"[2-9]\d{2,4}"#)
        #expect(ranges.matchesWhole(Self.digits("2000")) && !ranges.matchesWhole(Self.digits("1000")) && !ranges.matchesWhole(Self.digits("200000")))
    }

    @Test("a prefix match takes the first alternative that matches, with its groups, as Python's re.match does")
    func prefixMatches() throws {
        // Antigua's national prefix: a 7-digit local number is captured (to get its area code), else a leading 1 is dropped.
        let antigua = try DigitPattern(#"([457]\d{6})$|1"#)
        let local = try #require(antigua.matchPrefix(Self.digits("4601234")))
        #expect(local.end == 7 && local.groups == [0..<7])
        let trunk = try #require(antigua.matchPrefix(Self.digits("12684601234")))
        #expect(trunk.end == 1 && trunk.groups == [nil])
        #expect(antigua.matchPrefix(Self.digits("2684601234")) == nil)
        // Greedy optional parts, and an empty match where nothing is optional left.
        let optional = try DigitPattern(#"0?(15)?"#)
        #expect(try #require(optional.matchPrefix(Self.digits("01512"))).end == 3)
        #expect(try #require(optional.matchPrefix(Self.digits("99"))).end == 0)
    }

    @Test("patterns outside the subset are refused, naming where")
    func refusals() {
        for source in [#"\w+"#, "[9-1]", "(1", "1{3", "a"] {
            #expect(throws: DigitPatternError.self, "\(source)") { _ = try DigitPattern(source) }
        }
    }

    @Test("the national prefix is dropped or transformed only when what remains is a possible national number")
    func nationalPrefix() throws {
        let gb = try #require(PhoneNumberingPlans.byRegion["GB"])
        #expect(gb.strippingNationalPrefix(Self.digits("02079460958")) == Self.digits("2079460958"))
        let argentina = try #require(PhoneNumberingPlans.byRegion["AR"])
        #expect(argentina.strippingNationalPrefix(Self.digits("0111523456789")) == Self.digits("91123456789"))
        let italy = try #require(PhoneNumberingPlans.byRegion["IT"])
        #expect(italy.strippingNationalPrefix(Self.digits("0212345678")) == Self.digits("0212345678"), "Italy keeps its leading 0")
    }
}
