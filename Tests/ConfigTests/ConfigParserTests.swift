import Config
import Foundation
import Identity
import TestSupport
import Testing

@Suite("Configuration: validation names the JSON path, what was found and what is allowed")
struct ConfigParserTests {
    /// A valid configuration as a mutable JSON tree; each test breaks one thing.
    static func valid() -> [String: Any] {
        [
            "connections": [
                [
                    "id": "x-main", "destination": "x", "account": "acc",
                    "credentials": [
                        "consumerKey": ["env": "XK"], "consumerSecret": ["env": "XS"], "token": ["env": "XT"], "tokenSecret": ["file": "/run/secrets/xts"],
                    ],
                ],
                ["id": "tt", "destination": "tiktok", "advertiser": "adv", "credentials": ["accessToken": ["env": "TT"]], "defaultRegion": "gb"],
            ],
            "syncs": [["audience": "aud_42", "connection": "x-main"], ["audience": "aud_42", "connection": "tt", "cadence": "hourly"]],
        ]
    }

    func parse(_ json: [String: Any]) throws(ConfigErrors) -> CohortSyncConfig {
        try ConfigParser.parse(try! JSONSerialization.data(withJSONObject: json))
    }

    func errors(_ json: [String: Any]) -> [ConfigError] {
        do {
            _ = try parse(json)
            Issue.record("expected configuration errors")
            return []
        } catch {
            return error.errors
        }
    }

    func edit(_ change: (inout [[String: Any]], inout [[String: Any]]) -> Void) -> [String: Any] {
        var json = Self.valid()
        var connections = json["connections"] as! [[String: Any]]
        var syncs = json["syncs"] as! [[String: Any]]
        change(&connections, &syncs)
        json["connections"] = connections
        json["syncs"] = syncs
        return json
    }

    @Test("a valid file parses, with defaults filled in")
    func validFile() throws {
        let config = try parse(Self.valid())
        let x = try #require(config.connection("x-main"))
        #expect(x.forward == [.email, .phone, .idfa, .gaid, .androidID, .xHandle, .xID])
        #expect(x.apiBaseURL == "https://ads-api.x.com/12")
        #expect(x.credentials["tokenSecret"] == .file("/run/secrets/xts"))
        let tiktok = try #require(config.connection("tt"))
        #expect(tiktok.forward == [.email, .phone, .idfa, .gaid])
        #expect(tiktok.defaultRegion == "GB")
        #expect(config.syncs(ofAudience: "aud_42").map(\.connectionID) == ["x-main", "tt"])
        #expect(config.syncs[0].cadence == .realtime && config.syncs[0].deleteOnUpstreamDelete && config.syncs[0].maxRemovalFraction == 0.5)
    }

    @Test("examples/config.json is valid")
    func example() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/config.json")
        let config = try ConfigParser.load(path: url.path)
        #expect(config.connections.count == 2)
        #expect(config.audiences(ofConnection: "x-main") == ["aud_42", "aud_churn_risk"])
    }

    @Test("an inline secret is refused and the message says how to reference it")
    func literalSecret() {
        let found = errors(edit { connections, _ in
            var credentials = connections[0]["credentials"] as! [String: Any]
            credentials["token"] = "live-token-value"
            connections[0]["credentials"] = credentials
        })
        #expect(found.map(\.path) == ["$.connections[0].credentials.token"])
        #expect(found.first?.found.contains("literal string") == true)
        #expect(found.first?.allowed.contains(#"{"env": "VARIABLE"}"#) == true)
        #expect(!found.description.contains("live-token-value"), "the secret must not be echoed")
    }

    @Test("each kind of error names its path", arguments: [
        ("unknown destination", "$.connections[0].destination"),
        ("missing account", "$.connections[0].account"),
        ("tiktok forwarding a handle", "$.connections[1].forward[1]"),
        ("unknown region", "$.connections[1].defaultRegion"),
        ("bad URL", "$.connections[0].apiBaseURL"),
        ("URL with a password", "$.connections[0].apiBaseURL"),
        ("URL with a query", "$.connections[0].apiBaseURL"),
        ("URL with port 99999", "$.connections[0].apiBaseURL"),
        ("duplicate connection id", "$.connections[1].id"),
        ("unknown field", "$.connections[0].acount"),
        ("missing credential", "$.connections[1].credentials.accessToken"),
        ("sync to unknown connection", "$.syncs[0].connection"),
        ("bad cadence", "$.syncs[1].cadence"),
        ("fraction out of range", "$.syncs[0].maxRemovalFraction"),
        ("delete flag not boolean", "$.syncs[0].deleteOnUpstreamDelete"),
        ("duplicate sync", "$.syncs[1]"),
        ("connection id over 256 bytes", "$.connections[0].id"),
        ("audience id over 256 bytes", "$.syncs[0].audience"),
    ])
    func errorKinds(_ kind: String, _ path: String) {
        let json = edit { connections, syncs in
            switch kind {
            case "unknown destination": connections[0]["destination"] = "facebook"
            case "missing account": connections[0]["account"] = nil
            case "tiktok forwarding a handle": connections[1]["forward"] = ["email", "x_handle"]
            case "unknown region": connections[1]["defaultRegion"] = "Atlantis"
            case "bad URL": connections[0]["apiBaseURL"] = "ftp://example.com"
            case "URL with a password": connections[0]["apiBaseURL"] = "http://user:S3cret@127.0.0.1:8089/12"
            case "URL with a query": connections[0]["apiBaseURL"] = "http://127.0.0.1:8089/12?x=1"
            case "URL with port 99999": connections[0]["apiBaseURL"] = "http://127.0.0.1:99999/12"
            case "duplicate connection id": connections[1]["id"] = "x-main"
            case "unknown field": connections[0]["acount"] = "typo"
            case "missing credential": connections[1]["credentials"] = [:] as [String: Any]
            case "sync to unknown connection": syncs[0]["connection"] = "nope"
            case "bad cadence": syncs[1]["cadence"] = "weekly"
            case "fraction out of range": syncs[0]["maxRemovalFraction"] = 1.5
            case "delete flag not boolean": syncs[0]["deleteOnUpstreamDelete"] = "yes"
            case "duplicate sync": syncs[1]["connection"] = "x-main"
            case "connection id over 256 bytes":
                connections[0]["id"] = String(repeating: "c", count: 257)
                syncs[0]["connection"] = String(repeating: "c", count: 257)
            case "audience id over 256 bytes": syncs[0]["audience"] = String(repeating: "a", count: 257)
            default: Issue.record("unknown case \(kind)")
            }
        }
        let found = errors(json)
        #expect(found.map(\.path).contains(path), "\(kind): got \(found.map(\.description))")
        #expect(found.allSatisfy { !$0.allowed.isEmpty && !$0.found.isEmpty })
        #expect(!found.description.contains("S3cret"), "a password in a URL must not be echoed")
    }

    @Test("all errors are reported at once")
    func manyErrors() {
        let found = errors(edit { connections, syncs in
            connections[0]["destination"] = "myspace"
            syncs[1]["cadence"] = "sometimes"
            syncs[0]["maxDelaySeconds"] = 0
        })
        #expect(found.count >= 3)
    }

    @Test("not JSON, or no file, is one clear error")
    func unreadable() {
        #expect(throws: ConfigErrors.self) { try ConfigParser.parse(Data("{connections".utf8)) }
        let missing = #expect(throws: ConfigErrors.self) { try ConfigParser.load(path: "/nonexistent/cohortsync.json") }
        #expect(missing?.description.contains("COHORTSYNC_CONFIG") == true)
    }

    @Test("a syntax error names its line and column; a key written twice names its path")
    func syntaxPosition() throws {
        let broken = "{\n  \"connections\": [],\n  \"syncs\": [}\n"
        let error = try #require(#expect(throws: ConfigErrors.self) { try ConfigParser.parse(Data(broken.utf8)) })
        #expect(error.errors == [ConfigError(path: "$", found: "text that is not valid JSON at line 3, column 13: a value (object, array, string, number, true, false or null)", allowed: "a JSON object with connections and syncs")])
        let twice = #"{"connections":[{"id":"a","id":"b"}],"syncs":[]}"#
        let duplicate = try #require(#expect(throws: ConfigErrors.self) { try ConfigParser.parse(Data(twice.utf8)) })
        #expect(duplicate.errors.map(\.path) == ["$.connections[0].id"])
    }

    @Test("credentials that cannot be read are listed at their paths, naming the variable or file, never a value")
    func unavailableCredentials() throws {
        let config = try ConfigParser.parse(Data(TestConfigs.standard.utf8))
        let all = ["XK": "k", "XS": "s", "XT": "t", "XTS": "ts", "TT": "tt"]
        #expect(CredentialCheck.unavailable(in: config, environment: all).isEmpty)
        var missing = all
        missing["XS"] = nil
        missing["TT"] = ""
        let errors = CredentialCheck.unavailable(in: config, environment: missing)
        #expect(errors.map(\.path) == ["$.connections[0].credentials.consumerSecret", "$.connections[1].credentials.accessToken"])
        #expect(errors.map(\.found) == ["environment variable XS unset or empty", "environment variable TT unset or empty"])
    }

    @Test("secret references resolve from the environment or a file, and say which is missing")
    func references() throws {
        #expect(try SecretReference.environment("TOKEN").resolve(environment: ["TOKEN": "t"], path: "$.x") == "t")
        let file = NSTemporaryDirectory() + "secret-\(UUID().uuidString)"
        try "s3cret\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try SecretReference.file(file).resolve(environment: [:], path: "$.x") == "s3cret")
        let missing = #expect(throws: ConfigError.self) { try SecretReference.environment("NOPE").resolve(environment: [:], path: "$.c.token") }
        #expect(missing?.found.contains("NOPE") == true)
    }

    @Test("--print-config shows references and availability, never a secret value")
    func printing() throws {
        let config = try parse(Self.valid())
        let text = ConfigPrinter.render(config, environment: ["XK": "super-secret-key"])
        #expect(text.contains("\"env\" : \"XK\""))
        #expect(text.contains("\"available\" : true"))
        #expect(!text.contains("super-secret-key"))
    }
}
