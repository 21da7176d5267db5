import Hashing
import Wire

/// A destination's identifier rules (DESIGN §5): how each kind is normalized before hashing, or refused.
///
/// Pure and allocation-light: no I/O, no clock. A value that already is a 64-character hex digest (any case)
/// is taken as a SHA-256 digest and lowercased, never hashed again.
public struct IdentityRules: Sendable {
    public let destination: Destination
    /// The numbering plan that completes national phone numbers, from the connection's `defaultRegion`.
    let defaultPhonePlan: PhoneNumberingPlan?

    /// - Parameter defaultRegion: an ISO region libphonenumber knows (`PhoneRegions.isKnown`), or nil.
    public init(destination: Destination, defaultRegion: String? = nil) {
        self.destination = destination
        self.defaultPhonePlan = defaultRegion.flatMap { PhoneNumberingPlans.byRegion[$0.uppercased()] }
    }

    /// Whether the destination takes this kind at all (TikTok takes no Android id, X handle or X id).
    public func sends(_ kind: IdentifierType) -> Bool {
        switch (destination, kind) {
        case (_, .unspecified), (.unspecified, _): false
        case (.tiktok, .androidID), (.tiktok, .xHandle), (.tiktok, .xID): false
        default: true
        }
    }

    /// Normalizes and hashes one value, keeping the normalized text (for `cohortsync identify` and tests).
    /// Returns nil when the destination does not take this kind.
    public func normalize(_ kind: IdentifierType, _ value: String) -> Result<NormalizedIdentifier, IdentityRefusal>? {
        var workspace = IdentifierWorkspace()
        return switch read(kind, value.utf8.span, in: &workspace) {
        case nil: nil
        case .failure(let refusal)?: .failure(refusal)
        case .success(.digest(let digest))?: .success(NormalizedIdentifier(kind: kind, normalized: nil, digest: digest))
        case .success(.text)?:
            .success(NormalizedIdentifier(
                kind: kind, normalized: String(decoding: workspace.text, as: UTF8.self), digest: workspace.digestOfText(kind)))
        }
    }

    /// The digest only, for one value on its own (`cohortsync identify`, tests).
    /// Returns nil when the destination does not take this kind.
    public func digest(_ kind: IdentifierType, _ value: String) -> Result<SHA256Digest, IdentityRefusal>? {
        var workspace = IdentifierWorkspace()
        return digest(kind, value.utf8.span, in: &workspace)
    }

    /// The digest of one value read in place: the pipeline's hot path, which allocates nothing once
    /// `workspace` has grown and never makes the normalized text a `String`. Work another connection already
    /// did for the same value since `IdentifierWorkspace.startUser()` (the same digest, phone parse or shared
    /// rule) is reused. Returns nil when the destination does not take this kind.
    public func digest(_ kind: IdentifierType, _ value: Span<UInt8>, in workspace: inout IdentifierWorkspace) -> Result<SHA256Digest, IdentityRefusal>? {
        let variant = sharedVariant(kind)
        if let variant, let result = workspace.result(kind, variant: variant, value: value) { return result }
        let result: Result<SHA256Digest, IdentityRefusal>
        switch read(kind, value, in: &workspace) {
        case nil: return nil
        case .failure(let refusal)?: result = .failure(refusal)
        case .success(.digest(let digest))?: result = .success(digest)
        case .success(.text)?: result = .success(workspace.digestOfText(kind))
        }
        if let variant { workspace.remember(result, kind, variant: variant, value: value) }
        return result
    }

    /// Which rules apply to `kind`, as a number equal for every `IdentityRules` that reads the same value the
    /// same way (an IDFA for any destination; an email for the same destination), so that one connection's
    /// result serves the next. Nil for phone numbers, which also depend on the default region (their parse
    /// and digests are shared by `IdentifierWorkspace` itself).
    private func sharedVariant(_ kind: IdentifierType) -> Int32? {
        switch kind {
        case .idfa, .gaid: 0
        case .email, .androidID, .xHandle, .xID: destination.rawValue
        case .phone, .unspecified: nil
        }
    }

    /// What a value reads as: a digest as given, or normalized text to hash (in `workspace.text`).
    private enum Reading {
        case digest(SHA256Digest)
        case text
    }

    private func read(_ kind: IdentifierType, _ value: Span<UInt8>, in workspace: inout IdentifierWorkspace) -> Result<Reading, IdentityRefusal>? {
        guard sends(kind) else { return nil }
        workspace.trim(value)
        if workspace.input.count == 64, let digest = SHA256Digest(hexBytes: workspace.input[...]) {
            return .success(.digest(digest))
        }
        workspace.text.removeAll(keepingCapacity: true)
        let refusal: IdentityRefusal?
        switch kind {
        case .email: refusal = email(&workspace)
        case .phone: refusal = phone(&workspace)
        case .idfa, .gaid: refusal = advertisingID(&workspace)
        case .androidID: refusal = androidID(&workspace)
        case .xHandle: refusal = handle(&workspace)
        case .xID: refusal = xID(&workspace)
        case .unspecified: return nil
        }
        if let refusal { return .failure(refusal) }
        return .success(.text)
    }

    /// X: trim, lowercase. TikTok: also drop a `+tag` in the local part; dots are kept by both.
    private func email(_ workspace: inout IdentifierWorkspace) -> IdentityRefusal? {
        workspace.inputIsASCII ? asciiEmail(&workspace) : anyEmail(&workspace)
    }

    /// `email` for any text: lowercased by Unicode's rules, then checked by `emailAt`.
    func anyEmail(_ workspace: inout IdentifierWorkspace) -> IdentityRefusal? {
        workspace.text.append(contentsOf: workspace.input)
        ASCIIBytes.lowercase(&workspace.text)
        guard let at = Self.emailAt(workspace.text) else { return .invalidEmail }
        if destination == .tiktok, let plus = workspace.text[..<at].firstIndex(of: UInt8(ascii: "+")) {
            guard plus > 0 else { return .invalidEmail }
            workspace.text.removeSubrange(plus..<at)
        }
        return nil
    }

    /// `email` for an all-ASCII value, in one pass that lowercases and finds what `emailAt` checks: the same
    /// rules without a scan per rule.
    func asciiEmail(_ workspace: inout IdentifierWorkspace) -> IdentityRefusal? {
        // A second reference to the input's storage (no copy), so the text can be written while it is read.
        let value = workspace.input
        let input = value.span
        var firstAt = -1
        var lastAt = -1
        var lastDot = -1
        var firstPlus = -1
        var refused = false
        workspace.text.append(addingCapacity: input.count) { output in
            for index in input.indices {
                let byte = input[index]
                switch byte {
                case UInt8(ascii: "@"):
                    if firstAt < 0 { firstAt = index }
                    lastAt = index
                case UInt8(ascii: "."): lastDot = index
                case UInt8(ascii: "+"): if firstPlus < 0 { firstPlus = index }
                // Spaces, control characters, commas and semicolons, as `emailAt` refuses them.
                case 0...0x20, 0x7f, UInt8(ascii: ","), UInt8(ascii: ";"): refused = true
                default: break
                }
                output.append(ASCIIBytes.lower(byte))
            }
        }
        let count = input.count
        // One `@` after a non-empty local part; a domain of three or more bytes, not starting with a dot, with a
        // dot that is neither its first nor its last byte.
        guard !refused, firstAt > 0, lastAt == firstAt, count - firstAt - 1 >= 3, lastDot > firstAt + 1, lastDot < count - 1,
            input[firstAt + 1] != UInt8(ascii: ".")
        else { return .invalidEmail }
        if destination == .tiktok, firstPlus >= 0, firstPlus < firstAt {
            guard firstPlus > 0 else { return .invalidEmail }
            workspace.text.removeSubrange(firstPlus..<firstAt)
        }
        return nil
    }

    /// Where the one `@` of a valid lowercased email is: a non-empty local part, a dotted domain of three or
    /// more bytes, no spaces, control characters, commas or semicolons (Unicode ones included: an address with
    /// a no-break or zero-width space inside matches nobody at the destination). Nil when it is not such an email.
    private static func emailAt(_ bytes: [UInt8]) -> Int? {
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), bytes.lastIndex(of: UInt8(ascii: "@")) == at, at > 0 else { return nil }
        let domain = bytes[(at + 1)...]
        guard domain.count >= 3, let dot = domain.lastIndex(of: UInt8(ascii: ".")),
            dot > domain.startIndex, dot < domain.endIndex - 1, domain.first != UInt8(ascii: "."),
            !bytes.contains(where: { ASCIIBytes.isSpace($0) || $0 < 0x20 || $0 == 0x7f || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ";") }),
            !hasUnicodeSpaceOrControl(bytes)
        else { return nil }
        return at
    }

    /// Whether non-ASCII text holds a character no address is written with: Unicode whitespace, a control or
    /// format character, one that is invisible by default (no-break, em and zero-width spaces, a byte-order
    /// mark, C1 controls, variation selectors, Hangul fillers), a private-use or unassigned one, or the
    /// replacement character that stands for bytes that are not UTF-8. Internationalized addresses
    /// (`josé@exämple.de`) pass.
    private static func hasUnicodeSpaceOrControl(_ bytes: [UInt8]) -> Bool {
        guard bytes.contains(where: { $0 >= 0x80 }) else { return false }
        return String(decoding: bytes, as: UTF8.self).unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .privateUse, .unassigned, .surrogate: true
            default: scalar.properties.isWhitespace || scalar.properties.isDefaultIgnorableCodePoint || scalar == "\u{FFFD}"
            }
        }
    }

    /// X: E.164 with `+`. TikTok: the same digits without `+`.
    private func phone(_ workspace: inout IdentifierWorkspace) -> IdentityRefusal? {
        guard let number = workspace.phoneNumber(plan: defaultPhonePlan) else { return .invalidPhone }
        number.append(plus: destination == .x, to: &workspace.text)
        return nil
    }

    /// IDFA and GAID, both platforms: lowercase UUID with dashes; 32 bare hex digits get their dashes. Checked
    /// and written in one pass (what it wrote of a refused value is never read).
    private func advertisingID(_ workspace: inout IdentifierWorkspace) -> IdentityRefusal? {
        let value = workspace.input
        let input = value.span
        let bare = input.count == 32
        guard bare || input.count == 36 else { return .invalidDeviceID }
        var valid = true
        var allZero = true
        workspace.text.append(addingCapacity: 36) { output in
            for index in input.indices {
                let byte = input[index]
                if bare {
                    if index == 8 || index == 12 || index == 16 || index == 20 { output.append(45) }
                } else if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard byte == 45 else {
                        valid = false
                        return
                    }
                    output.append(45)
                    continue
                }
                guard ASCIIBytes.isHex(byte) else {
                    valid = false
                    return
                }
                if byte != 48 { allZero = false }
                output.append(ASCIIBytes.lower(byte))
            }
        }
        guard valid else { return .invalidDeviceID }
        return allZero ? .zeroDeviceID : nil
    }

    /// X only: lowercase hex without dashes or spaces.
    private func androidID(_ workspace: inout IdentifierWorkspace) -> IdentityRefusal? {
        for byte in workspace.input where byte != 45 && byte != 0x20 { workspace.text.append(ASCIIBytes.lower(byte)) }
        guard (8...32).contains(workspace.text.count), workspace.text.allSatisfy(ASCIIBytes.isHex) else { return .invalidDeviceID }
        return nil
    }

    /// X only: no `@`, lowercase, 1 to 15 of letters, digits and underscores.
    private func handle(_ workspace: inout IdentifierWorkspace) -> IdentityRefusal? {
        let input = workspace.input
        for byte in input.dropFirst(input.first == UInt8(ascii: "@") ? 1 : 0) { workspace.text.append(ASCIIBytes.lower(byte)) }
        guard (1...15).contains(workspace.text.count),
            workspace.text.allSatisfy({ ASCIIBytes.isDigit($0) || (0x61...0x7a).contains($0) || $0 == UInt8(ascii: "_") })
        else {
            return .invalidHandle
        }
        return nil
    }

    /// X only: a decimal integer without spaces or leading zeros.
    private func xID(_ workspace: inout IdentifierWorkspace) -> IdentityRefusal? {
        for byte in workspace.input where byte != 0x20 { workspace.text.append(byte) }
        guard (1...20).contains(workspace.text.count), workspace.text.allSatisfy(ASCIIBytes.isDigit) else { return .invalidXID }
        let zeros = workspace.text.prefix { $0 == 48 }.count
        workspace.text.removeFirst(min(zeros, workspace.text.count - 1))
        return nil
    }
}
