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
        guard sends(kind) else { return nil }
        let trimmed = ASCIIBytes.trimmed(value)
        if trimmed.count == 64, let digest = SHA256Digest(hexBytes: trimmed[...]) {
            return .success(NormalizedIdentifier(kind: kind, normalized: nil, digest: digest))
        }
        return normalizedText(kind, trimmed)?.map { text in
            NormalizedIdentifier(kind: kind, normalized: String(decoding: text, as: UTF8.self), digest: SHA256Digest.hash(text))
        }
    }

    /// The digest only: the pipeline's hot path, which never needs the normalized text as a `String`.
    /// Returns nil when the destination does not take this kind.
    public func digest(_ kind: IdentifierType, _ value: String) -> Result<SHA256Digest, IdentityRefusal>? {
        guard sends(kind) else { return nil }
        let trimmed = ASCIIBytes.trimmed(value)
        if trimmed.count == 64, let digest = SHA256Digest(hexBytes: trimmed[...]) {
            return .success(digest)
        }
        return normalizedText(kind, trimmed)?.map(SHA256Digest.hash)
    }

    /// The text to hash, or why the value is refused; nil for `unspecified`, which no destination takes.
    private func normalizedText(_ kind: IdentifierType, _ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal>? {
        switch kind {
        case .email: email(trimmed)
        case .phone: phone(trimmed)
        case .idfa, .gaid: advertisingID(trimmed)
        case .androidID: androidID(trimmed)
        case .xHandle: handle(trimmed)
        case .xID: xID(trimmed)
        case .unspecified: nil
        }
    }

    /// X: trim, lowercase. TikTok: also drop a `+tag` in the local part; dots are kept by both.
    /// Works in place on the trimmed bytes: one allocation per email on the hot path.
    private func email(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        var bytes = trimmed
        ASCIIBytes.lowercase(&bytes)
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), bytes.lastIndex(of: UInt8(ascii: "@")) == at, at > 0 else {
            return .failure(.invalidEmail)
        }
        let domain = bytes[(at + 1)...]
        guard domain.count >= 3, let dot = domain.lastIndex(of: UInt8(ascii: ".")),
            dot > domain.startIndex, dot < domain.endIndex - 1, domain.first != UInt8(ascii: "."),
            !bytes.contains(where: { ASCIIBytes.isSpace($0) || $0 < 0x20 || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ";") })
        else {
            return .failure(.invalidEmail)
        }
        if destination == .tiktok, let plus = bytes[..<at].firstIndex(of: UInt8(ascii: "+")) {
            guard plus > 0 else { return .failure(.invalidEmail) }
            bytes.removeSubrange(plus..<at)
        }
        return .success(bytes)
    }

    /// X: E.164 with `+`. TikTok: the same digits without `+`.
    private func phone(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        guard let number = PhoneNumber.parse(trimmed, plan: defaultPhonePlan) else { return .failure(.invalidPhone) }
        return .success(destination == .x ? number.e164Bytes : Array(number.digitBytes))
    }

    /// IDFA and GAID, both platforms: lowercase UUID with dashes; 32 bare hex digits get their dashes.
    private func advertisingID(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        var bytes = trimmed
        for index in bytes.indices { bytes[index] = ASCIIBytes.lower(bytes[index]) }
        if bytes.count == 32, bytes.allSatisfy(ASCIIBytes.isHex) {
            for position in [8, 13, 18, 23] { bytes.insert(45, at: position) }
        }
        guard bytes.count == 36 else { return .failure(.invalidDeviceID) }
        var allZero = true
        for index in 0..<36 {
            let byte = bytes[index]
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == 45 else { return .failure(.invalidDeviceID) }
            } else {
                guard ASCIIBytes.isHex(byte) else { return .failure(.invalidDeviceID) }
                if byte != 48 { allZero = false }
            }
        }
        if allZero { return .failure(.zeroDeviceID) }
        return .success(bytes)
    }

    /// X only: lowercase hex without dashes or spaces.
    private func androidID(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        var bytes = trimmed
        bytes.removeAll { $0 == 45 || $0 == 0x20 }
        for index in bytes.indices { bytes[index] = ASCIIBytes.lower(bytes[index]) }
        guard (8...32).contains(bytes.count), bytes.allSatisfy(ASCIIBytes.isHex) else { return .failure(.invalidDeviceID) }
        return .success(bytes)
    }

    /// X only: no `@`, lowercase, 1 to 15 of letters, digits and underscores.
    private func handle(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        var bytes = trimmed
        if bytes.first == UInt8(ascii: "@") { bytes.removeFirst() }
        for index in bytes.indices { bytes[index] = ASCIIBytes.lower(bytes[index]) }
        guard (1...15).contains(bytes.count),
            bytes.allSatisfy({ ASCIIBytes.isDigit($0) || (0x61...0x7a).contains($0) || $0 == UInt8(ascii: "_") })
        else {
            return .failure(.invalidHandle)
        }
        return .success(bytes)
    }

    /// X only: a decimal integer without spaces or leading zeros.
    private func xID(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        var bytes = trimmed.filter { $0 != 0x20 }
        guard (1...20).contains(bytes.count), bytes.allSatisfy(ASCIIBytes.isDigit) else { return .failure(.invalidXID) }
        while bytes.count > 1, bytes.first == 48 { bytes.removeFirst() }
        return .success(bytes)
    }
}
