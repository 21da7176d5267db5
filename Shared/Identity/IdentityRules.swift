import Hashing

/// A destination's identifier rules (DESIGN §5): how each kind is normalized before hashing, or refused.
///
/// Pure and allocation-light: no I/O, no clock. A value that already is a 64-character hex digest (any case)
/// is taken as a SHA-256 digest and lowercased, never hashed again.
public struct IdentityRules: Sendable {
    public let destination: DestinationKind
    /// The calling code for national phone numbers, from the connection's `defaultRegion`.
    public let defaultCallingCode: String?

    /// - Parameter defaultRegion: an ISO region in `CallingCodes.byRegion`, or nil.
    public init(destination: DestinationKind, defaultRegion: String? = nil) {
        self.destination = destination
        self.defaultCallingCode = defaultRegion.flatMap { CallingCodes.byRegion[$0.uppercased()] }
    }

    /// Whether the destination takes this kind at all (TikTok takes no Android id, X handle or X id).
    public func sends(_ kind: IdentifierKind) -> Bool {
        switch (destination, kind) {
        case (.tiktok, .androidID), (.tiktok, .xHandle), (.tiktok, .xID): false
        default: true
        }
    }

    /// Normalizes and hashes one value. Returns nil when the destination does not take this kind.
    public func normalize(_ kind: IdentifierKind, _ value: String) -> Result<NormalizedIdentifier, IdentityRefusal>? {
        guard sends(kind) else { return nil }
        let trimmed = ASCIIBytes.trimmed(value)
        if trimmed.count == 64, let digest = SHA256Digest(hex: String(decoding: trimmed, as: UTF8.self)) {
            return .success(NormalizedIdentifier(kind: kind, normalized: nil, digest: digest))
        }
        return normalizedText(kind, trimmed).map { text in
            NormalizedIdentifier(kind: kind, normalized: String(decoding: text, as: UTF8.self), digest: SHA256Digest.hash(text))
        }
    }

    private func normalizedText(_ kind: IdentifierKind, _ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        switch kind {
        case .email: email(trimmed)
        case .phone: phone(trimmed)
        case .idfa, .gaid: advertisingID(trimmed)
        case .androidID: androidID(trimmed)
        case .xHandle: handle(trimmed)
        case .xID: xID(trimmed)
        }
    }

    /// X: trim, lowercase. TikTok: also drop a `+tag` in the local part; dots are kept by both.
    private func email(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        let lowered = ASCIIBytes.lowercased(trimmed)
        guard let at = lowered.firstIndex(of: UInt8(ascii: "@")), lowered.lastIndex(of: UInt8(ascii: "@")) == at else {
            return .failure(.invalidEmail)
        }
        var local = Array(lowered[..<at])
        let domain = lowered[(at + 1)...]
        guard !local.isEmpty, domain.count >= 3, let dot = domain.lastIndex(of: UInt8(ascii: ".")),
            dot > domain.startIndex, dot < domain.endIndex - 1, domain.first != UInt8(ascii: "."),
            !lowered.contains(where: { ASCIIBytes.isSpace($0) || $0 < 0x20 || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ";") })
        else {
            return .failure(.invalidEmail)
        }
        if destination == .tiktok, let plus = local.firstIndex(of: UInt8(ascii: "+")) {
            local = Array(local[..<plus])
            guard !local.isEmpty else { return .failure(.invalidEmail) }
        }
        return .success(local + [UInt8(ascii: "@")] + domain)
    }

    /// X: E.164 with `+`. TikTok: the same digits without `+`.
    private func phone(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        guard let number = PhoneNumber.parse(trimmed, defaultCallingCode: defaultCallingCode) else { return .failure(.invalidPhone) }
        return .success(destination == .x ? Array(("+" + number.digits).utf8) : Array(number.digits.utf8))
    }

    /// IDFA and GAID, both platforms: lowercase UUID with dashes; 32 bare hex digits get their dashes.
    private func advertisingID(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        var bytes = trimmed.map(ASCIIBytes.lower)
        if bytes.count == 32, bytes.allSatisfy(ASCIIBytes.isHex) {
            bytes = Array(bytes[0..<8]) + [45] + Array(bytes[8..<12]) + [45] + Array(bytes[12..<16]) + [45] + Array(bytes[16..<20]) + [45] + Array(bytes[20...])
        }
        guard bytes.count == 36 else { return .failure(.invalidDeviceID) }
        for (index, byte) in bytes.enumerated() {
            let isDash = index == 8 || index == 13 || index == 18 || index == 23
            guard isDash ? byte == 45 : ASCIIBytes.isHex(byte) else { return .failure(.invalidDeviceID) }
        }
        if bytes.allSatisfy({ $0 == 48 || $0 == 45 }) { return .failure(.zeroDeviceID) }
        return .success(bytes)
    }

    /// X only: lowercase hex without dashes or spaces.
    private func androidID(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        let bytes = trimmed.filter { $0 != 45 && $0 != 0x20 }.map(ASCIIBytes.lower)
        guard (8...32).contains(bytes.count), bytes.allSatisfy(ASCIIBytes.isHex) else { return .failure(.invalidDeviceID) }
        return .success(bytes)
    }

    /// X only: no `@`, lowercase, 1 to 15 of letters, digits and underscores.
    private func handle(_ trimmed: [UInt8]) -> Result<[UInt8], IdentityRefusal> {
        var bytes = trimmed
        if bytes.first == UInt8(ascii: "@") { bytes.removeFirst() }
        bytes = bytes.map(ASCIIBytes.lower)
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
