import Destinations
import Testing

@Suite("OAuth 1.0a HMAC-SHA1 signing")
struct OAuth1Tests {
    /// X's documented example request (DESIGN §6).
    let credentials = OAuth1.Credentials(
        consumerKey: "xvz1evFS4wEEPTGEFPHBog", consumerSecret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        token: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", tokenSecret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE")
    let query = [("include_entities", "true"), ("status", "Hello Ladies + Gentlemen, a signed OAuth request!")]
    let nonce = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
    let url = "https://api.twitter.com/1.1/statuses/update.json"

    @Test("the documented example signs to hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
    func documentedVector() throws {
        let base = OAuth1.baseString(
            method: "post", baseURL: url,
            parameters: query + OAuth1.protocolParameters(credentials: credentials, nonce: nonce, timestamp: 1_318_622_958))
        #expect(base.hasPrefix("POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key"))
        #expect(base.contains("status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"))
        let signature = OAuth1.signature(baseString: base, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.tokenSecret)
        #expect(signature == "hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
    }

    @Test("the Authorization header carries the signature and parses back to the same parameters")
    func headerRoundTrip() throws {
        let header = OAuth1.authorizationHeader(method: "POST", baseURL: url, query: query, credentials: credentials, nonce: nonce, timestamp: 1_318_622_958)
        #expect(header.contains(#"oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D""#))
        let parsed = try #require(OAuth1.parseAuthorizationHeader(header))
        #expect(parsed["oauth_signature"] == "hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
        #expect(parsed["oauth_nonce"] == nonce)
        #expect(parsed["oauth_token"] == credentials.token)
        #expect(OAuth1.parseAuthorizationHeader("Bearer abc") == nil)
    }

    @Test("percent-encoding follows RFC 3986, including multi-byte UTF-8")
    func percentEncoding() {
        #expect(OAuth1.percentEncode("Ladies + Gentlemen") == "Ladies%20%2B%20Gentlemen")
        #expect(OAuth1.percentEncode("a-b._~") == "a-b._~")
        #expect(OAuth1.percentEncode("☃") == "%E2%98%83")
        #expect(OAuth1.percentEncode("*!'()") == "%2A%21%27%28%29")
    }

    @Test("a different secret or parameter changes the signature")
    func sensitivity() {
        let parameters = query + OAuth1.protocolParameters(credentials: credentials, nonce: nonce, timestamp: 1_318_622_958)
        let base = OAuth1.baseString(method: "POST", baseURL: url, parameters: parameters)
        let good = OAuth1.signature(baseString: base, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.tokenSecret)
        #expect(OAuth1.signature(baseString: base, consumerSecret: credentials.consumerSecret, tokenSecret: "x") != good)
        let otherBase = OAuth1.baseString(method: "POST", baseURL: url, parameters: parameters + [("extra", "1")])
        #expect(OAuth1.signature(baseString: otherBase, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.tokenSecret) != good)
    }
}
