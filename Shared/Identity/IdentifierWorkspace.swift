import Hashing
import Wire

/// Reused working memory for normalizing one user's identifiers for each connection that syncs it.
///
/// Normalization writes into these buffers instead of allocating per identifier, and work a connection
/// would repeat is taken from the connection before it: a rule the destinations share (an IDFA reads the
/// same for X and TikTok) runs once per value, a phone number that carries its own country code is parsed
/// once, and a normalized text that was hashed already is not hashed again. Every reuse is keyed by the value
/// (and the kind, rules and default region) it was computed for, so a different value is never answered
/// from another's result. `startUser()` forgets all of it: call it before each user, so that what is kept
/// stays a few values long. One workspace per thread of work.
public struct IdentifierWorkspace: Sendable {
    /// The value being normalized, trimmed.
    var input: [UInt8] = []
    /// Whether `input` is all ASCII, which most values are: rules then work byte by byte.
    private(set) var inputIsASCII = true
    /// The normalized text being built.
    var text: [UInt8] = []
    /// The values and texts the entries below were computed for, end to end.
    private var kept: [UInt8] = []
    /// Texts hashed since `startUser()`: each one's kind, place in `kept` and digest.
    private var hashed: [(kind: IdentifierType, text: Range<Int>, digest: SHA256Digest)] = []
    /// Results of rules shared by several destinations (`IdentityRules.sharedVariant`): kind, variant, the
    /// value as given (place in `kept`) and the result.
    private var results: [(kind: IdentifierType, variant: Int32, value: Range<Int>, result: Result<SHA256Digest, IdentityRefusal>)] = []
    /// Phone numbers parsed since `startUser()`: the trimmed text (place in `kept`), the default region's
    /// plan the parse used, whether it needed one at all (a number with its own country code does not),
    /// and the number.
    private var phones: [(text: Range<Int>, usedPlan: PhoneNumberingPlan?, planIndependent: Bool, number: PhoneNumber?)] = []

    public init() {}

    /// Starts a new user: nothing computed before is reused.
    public mutating func startUser() {
        kept.removeAll(keepingCapacity: true)
        hashed.removeAll(keepingCapacity: true)
        results.removeAll(keepingCapacity: true)
        phones.removeAll(keepingCapacity: true)
    }

    /// Copies `value` into `input` without the whitespace around it (Unicode whitespace included).
    mutating func trim(_ value: Span<UInt8>) {
        input.removeAll(keepingCapacity: true)
        var end = value.count
        while end > 0, ASCIIBytes.isSpace(value[end - 1]) { end -= 1 }
        var start = 0
        while start < end, ASCIIBytes.isSpace(value[start]) { start += 1 }
        var highBits: UInt8 = 0
        input.append(addingCapacity: end - start) { output in
            for index in start..<end {
                highBits |= value[index]
                output.append(value[index])
            }
        }
        inputIsASCII = highBits < 0x80
        // Non-ASCII: let the standard library find Unicode whitespace (no-break space, ideographic space...).
        if !inputIsASCII { input = ASCIIBytes.trimmed(String(decoding: input, as: UTF8.self)) }
    }

    /// The SHA-256 of `text`, reusing a digest of the same kind and text made since `startUser()`.
    mutating func digestOfText(_ kind: IdentifierType) -> SHA256Digest {
        for index in hashed.indices where hashed[index].kind == kind && kept.span.extracting(hashed[index].text).elementsEqual(text.span) {
            return hashed[index].digest
        }
        let digest = SHA256Digest.hash(text.span)
        hashed.append((kind, keep(text), digest))
        return digest
    }

    /// What rules of `variant` made of `value` of `kind` since `startUser()`, if they ran.
    func result(_ kind: IdentifierType, variant: Int32, value: Span<UInt8>) -> Result<SHA256Digest, IdentityRefusal>? {
        for entry in results.indices where results[entry].kind == kind && results[entry].variant == variant {
            if kept.span.extracting(results[entry].value).elementsEqual(value) { return results[entry].result }
        }
        return nil
    }

    /// Keeps what rules of `variant` made of `value` of `kind`, for the next connection.
    mutating func remember(_ result: Result<SHA256Digest, IdentityRefusal>, _ kind: IdentifierType, variant: Int32, value: Span<UInt8>) {
        let start = kept.count
        kept.append(span: value)
        results.append((kind, variant, start..<kept.count, result))
    }

    /// `input` parsed as a phone number completed by `plan`, reusing a parse of the same text made since
    /// `startUser()` with the same plan, or one that needed none.
    mutating func phoneNumber(plan: PhoneNumberingPlan?) -> PhoneNumber? {
        for entry in phones.indices where phones[entry].planIndependent || phones[entry].usedPlan === plan {
            if kept.span.extracting(phones[entry].text).elementsEqual(input.span) { return phones[entry].number }
        }
        let parsed = PhoneNumber.parse(input, plan: plan)
        phones.append((keep(input), plan, parsed.planIndependent, parsed.number))
        return parsed.number
    }

    /// Appends a copy of `bytes` to `kept` and returns where it lies.
    private mutating func keep(_ bytes: [UInt8]) -> Range<Int> {
        let start = kept.count
        kept.append(span: bytes.span)
        return start..<kept.count
    }
}
