import Foundation
import Hashing

/// OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849), as the X Ads API requires.
///
/// The X uploader signs with it and the sandbox verifies with it. The signature covers the method, the
/// URL without its query, the query parameters and the `oauth_*` parameters; a JSON body is not part of it.
public enum OAuth1 {
    /// The four secrets of an X Ads API app and user.
    public struct Credentials: Sendable, Equatable {
        public let consumerKey: String
        public let consumerSecret: String
        public let token: String
        public let tokenSecret: String

        public init(consumerKey: String, consumerSecret: String, token: String, tokenSecret: String) {
            self.consumerKey = consumerKey
            self.consumerSecret = consumerSecret
            self.token = token
            self.tokenSecret = tokenSecret
        }
    }

    /// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`, from UTF-8 bytes.
    public static func percentEncode(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// The signature base string: `METHOD&enc(base URL)&enc(sorted, encoded parameters)`.
    /// - Parameter baseURL: scheme, host and path only, for example `https://ads-api.x.com/12/accounts/a/custom_audiences`.
    public static func baseString(method: String, baseURL: String, parameters: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = parameters.map { (percentEncode($0.0), percentEncode($0.1)) }
        let sorted = encoded.sorted { lhs, rhs in lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name }
        let normalized = sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        return [method.uppercased(), percentEncode(baseURL), percentEncode(normalized)].joined(separator: "&")
    }

    /// The base string URI of RFC 5849 §3.4.1.2: scheme and host lowercased, the port dropped when it is the
    /// scheme's default (80 for http, 443 for https), the path as given. A URL that does not parse is returned as is.
    public static func normalizedBaseURL(_ url: String) -> String {
        guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else { return url }
        components.scheme = scheme
        components.host = components.host?.lowercased()
        if (scheme == "http" && components.port == 80) || (scheme == "https" && components.port == 443) { components.port = nil }
        return components.string ?? url
    }

    /// The base64 HMAC-SHA1 signature of a base string under `enc(consumer secret)&enc(token secret)`.
    public static func signature(baseString: String, consumerSecret: String, tokenSecret: String) -> String {
        let key = percentEncode(consumerSecret) + "&" + percentEncode(tokenSecret)
        return Data(HMAC.sha1(key: key, message: baseString)).base64EncodedString()
    }

    /// The `oauth_*` protocol parameters of one request, before signing.
    public static func protocolParameters(credentials: Credentials, nonce: String, timestamp: Int64) -> [(String, String)] {
        [
            ("oauth_consumer_key", credentials.consumerKey),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", String(timestamp)),
            ("oauth_token", credentials.token),
            ("oauth_version", "1.0"),
        ]
    }

    /// The `Authorization` header value for a request.
    /// - Parameters:
    ///   - query: the request's query parameters, decoded.
    ///   - nonce: a fresh random value per request; `timestamp`: seconds since the epoch. Both passed in so tests can fix them.
    public static func authorizationHeader(
        method: String, baseURL: String, query: [(String, String)], credentials: Credentials, nonce: String, timestamp: Int64
    ) -> String {
        let oauth = protocolParameters(credentials: credentials, nonce: nonce, timestamp: timestamp)
        let base = baseString(method: method, baseURL: baseURL, parameters: query + oauth)
        let signed = oauth + [("oauth_signature", signature(baseString: base, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.tokenSecret))]
        return "OAuth " + signed.sorted { $0.0 < $1.0 }.map { "\(percentEncode($0.0))=\"\(percentEncode($0.1))\"" }.joined(separator: ", ")
    }

    /// The parameters of an `Authorization: OAuth ...` header, decoded; nil if it is not an OAuth header.
    public static func parseAuthorizationHeader(_ header: String) -> [String: String]? {
        guard header.hasPrefix("OAuth ") else { return nil }
        var parameters: [String: String] = [:]
        for part in header.dropFirst("OAuth ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            let name = String(pair[..<equals])
            var value = String(pair[pair.index(after: equals)...])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard let decodedName = name.removingPercentEncoding, let decodedValue = value.removingPercentEncoding else { return nil }
            parameters[decodedName] = decodedValue
        }
        return parameters
    }
}
