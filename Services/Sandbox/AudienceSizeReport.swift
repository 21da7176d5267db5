/// Audience sizes as the platforms report them, which is not the true count (privacy thresholds).
enum AudienceSizeReport {
    /// X: under 100 matched users the size is 0 and the audience is `TOO_SMALL`; above, rounded to two
    /// significant digits (12,345 → 12,000).
    static func x(memberCount: Int) -> (size: Int, targetable: Bool, reasons: [String]) {
        guard memberCount >= 100 else { return (0, false, ["TOO_SMALL"]) }
        var magnitude = 1
        while memberCount / magnitude >= 100 { magnitude *= 10 }
        let rounded = Int((Double(memberCount) / Double(magnitude)).rounded()) * magnitude
        return (rounded, true, [])
    }

    /// TikTok: an audience under 1,000 matched users cannot be targeted.
    static func tiktokIsValid(memberCount: Int) -> Bool {
        memberCount >= 1_000
    }
}
