import Hashing
import Wire

/// Reused working memory for normalizing one user's identifiers for each connection that syncs it.
///
/// Normalization writes into these buffers instead of allocating per identifier, and a connection whose
/// rules give the same text as the connection before it (an IDFA, an email without `+tag`, a phone number
/// with its own country code) reuses that digest or phone parse instead of computing it again. Call
/// `startUser()` before each user: nothing is reused across users. One workspace per thread of work.
/// Rules the destinations share (an IDFA reads the same for X and TikTok) run once per user.
public struct IdentifierWorkspace: Sendable {
    /// The value being normalized, trimmed.
    var input: [UInt8] = []
    /// The normalized text being built.
    var text: [UInt8] = []
    /// The texts hashed for the current user, end to end, and each one's kind, place and digest.
    private var hashedTexts: [UInt8] = []
    private var hashed: [(kind: IdentifierType, text: Range<Int>, digest: SHA256Digest)] = []
    /// Results of rules shared by several destinations (`IdentityRules.sharedVariant`), by kind and variant.
    private var results: [(kind: IdentifierType, variant: Int32, result: Result<SHA256Digest, IdentityRefusal>)] = []
    /// The user's phone number as last parsed, and the default region's plan that parse used (none when
    /// the number carried its own country code, so any connection can reuse it).
    private var phone: (number: PhoneNumber?, usedPlan: PhoneNumberingPlan?, planIndependent: Bool)?

    public init() {}

    /// Starts a new user: digests and parses of the previous one are no longer reused.
    public mutating func startUser() {
        hashedTexts.removeAll(keepingCapacity: true)
        hashed.removeAll(keepingCapacity: true)
        results.removeAll(keepingCapacity: true)
        phone = nil
    }

    /// Copies `value` into `input` without the whitespace around it (Unicode whitespace included).
    mutating func trim(_ value: Span<UInt8>) {
        input.removeAll(keepingCapacity: true)
        var end = value.count
        while end > 0, ASCIIBytes.isSpace(value[end - 1]) { end -= 1 }
        var start = 0
        while start < end, ASCIIBytes.isSpace(value[start]) { start += 1 }
        let trimmed = value.extracting(start..<end)
        input.append(span: trimmed)
        var highBits: UInt8 = 0
        for index in trimmed.indices { highBits |= trimmed[index] }
        // Non-ASCII: let the standard library find Unicode whitespace (no-break space, ideographic space...).
        if highBits >= 0x80 { input = ASCIIBytes.trimmed(String(decoding: input, as: UTF8.self)) }
    }

    /// The SHA-256 of `text`, reusing this user's digest of the same kind when the text is the same.
    mutating func digestOfText(_ kind: IdentifierType) -> SHA256Digest {
        for index in hashed.indices where hashed[index].kind == kind && hashedTexts.span.extracting(hashed[index].text).elementsEqual(text.span) {
            return hashed[index].digest
        }
        let digest = SHA256Digest.hash(text.span)
        let start = hashedTexts.count
        hashedTexts.append(contentsOf: text)
        hashed.append((kind, start..<hashedTexts.count, digest))
        return digest
    }

    /// What rules of `variant` made of this user's value of `kind`, if they ran already.
    func result(_ kind: IdentifierType, variant: Int32) -> Result<SHA256Digest, IdentityRefusal>? {
        results.first { $0.kind == kind && $0.variant == variant }?.result
    }

    /// Keeps what rules of `variant` made of this user's value of `kind`, for the next connection.
    mutating func remember(_ result: Result<SHA256Digest, IdentityRefusal>, _ kind: IdentifierType, variant: Int32) {
        results.append((kind, variant, result))
    }

    /// `input` parsed as a phone number completed by `plan`, reusing this user's earlier parse when it
    /// used the same plan or needed none.
    mutating func phoneNumber(plan: PhoneNumberingPlan?) -> PhoneNumber? {
        if let phone, phone.planIndependent || phone.usedPlan === plan { return phone.number }
        let parsed = PhoneNumber.parse(input, plan: plan)
        phone = (parsed.number, plan, parsed.planIndependent)
        return parsed.number
    }
}
