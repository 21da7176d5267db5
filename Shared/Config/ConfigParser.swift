import Foundation
import Identity
import Wire

/// Reads and validates the configuration file, collecting every error with its JSON path.
public enum ConfigParser {
    /// Loads the file at `path` (from `COHORTSYNC_CONFIG`).
    /// - Throws: `ConfigErrors` listing every problem, or one error when the file cannot be read or parsed.
    public static func load(path: String) throws(ConfigErrors) -> CohortSyncConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors(errors: [ConfigError(path: "$", found: "no readable file at \(path)", allowed: "a JSON file; set COHORTSYNC_CONFIG to its path")])
        }
        return try parse(data)
    }

    /// Validates configuration JSON.
    public static func parse(_ data: Data) throws(ConfigErrors) -> CohortSyncConfig {
        let root: JSONValue
        do {
            root = try JSONValue.parse(data)
        } catch {
            throw ConfigErrors(errors: [error])
        }
        var reader = Reader()
        let config = reader.config(root)
        guard reader.errors.isEmpty, let config else { throw ConfigErrors(errors: reader.errors) }
        return config
    }

    private struct Reader {
        var errors: [ConfigError] = []

        mutating func fail(_ path: String, _ found: String, _ allowed: String) {
            errors.append(ConfigError(path: path, found: found, allowed: allowed))
        }

        mutating func object(_ value: JSONValue?, _ path: String, keys: [String]) -> [String: JSONValue]? {
            guard case .object(let object)? = value else {
                fail(path, value?.kindDescription ?? "nothing", "an object")
                return nil
            }
            for key in object.keys.sorted() where !keys.contains(key) {
                fail("\(path).\(key)", "an unknown field", keys.joined(separator: ", "))
            }
            return object
        }

        mutating func string(_ value: JSONValue?, _ path: String, required: Bool = true, allowed: String = "a non-empty string") -> String? {
            switch value {
            case .string(let text)? where !text.isEmpty: return text
            case nil where !required: return nil
            default:
                fail(path, value?.kindDescription ?? "nothing", allowed)
                return nil
            }
        }

        mutating func choice<T: RawRepresentable & CaseIterable>(_ value: JSONValue?, _ path: String, default fallback: T) -> T where T.RawValue == String {
            guard let value else { return fallback }
            let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            guard let text = value.stringValue, let choice = T(rawValue: text) else {
                fail(path, value.stringValue.map { "\"\($0)\"" } ?? value.kindDescription, allowed)
                return fallback
            }
            return choice
        }

        mutating func config(_ root: JSONValue) -> CohortSyncConfig? {
            guard let top = object(root, "$", keys: ["connections", "syncs"]) else { return nil }
            var connections: [CohortSyncConfig.Connection] = []
            // Ids of every declared connection, valid or not, so a broken connection does not also fail its syncs.
            var declared: [String] = []
            if case .array(let items)? = top["connections"], !items.isEmpty {
                for (index, item) in items.enumerated() {
                    if let id = item["id"]?.stringValue { declared.append(id) }
                    if let connection = connection(item, "$.connections[\(index)]") {
                        if connections.contains(where: { $0.id == connection.id }) {
                            fail("$.connections[\(index)].id", "\"\(connection.id)\", already used by another connection", "a unique id")
                        }
                        connections.append(connection)
                    }
                }
            } else {
                fail("$.connections", top["connections"]?.kindDescription ?? "nothing", "a non-empty array of connections")
            }
            var syncs: [CohortSyncConfig.Sync] = []
            if case .array(let items)? = top["syncs"] {
                for (index, item) in items.enumerated() {
                    guard let sync = sync(item, "$.syncs[\(index)]", declared: declared) else { continue }
                    if syncs.contains(where: { $0.audienceID == sync.audienceID && $0.connectionID == sync.connectionID }) {
                        fail("$.syncs[\(index)]", "a second sync of audience \"\(sync.audienceID)\" to connection \"\(sync.connectionID)\"", "one sync per audience and connection")
                    }
                    if connections.contains(where: { $0.id == sync.connectionID }) { syncs.append(sync) }
                }
            } else {
                fail("$.syncs", top["syncs"]?.kindDescription ?? "nothing", "an array of syncs (may be empty)")
            }
            return CohortSyncConfig(connections: connections, syncs: syncs)
        }

        mutating func connection(_ value: JSONValue, _ path: String) -> CohortSyncConfig.Connection? {
            let keys = ["id", "destination", "account", "advertiser", "credentials", "forward", "audienceNaming", "apiBaseURL", "defaultRegion"]
            guard let fields = object(value, path, keys: keys) else { return nil }
            let id = string(fields["id"], "\(path).id")
            if let id, !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                fail("\(path).id", "\"\(id)\"", "letters, digits, - and _ (it becomes part of Kafka keys)")
            }
            if let id, id.utf8.count > TextBounds.audienceID {
                fail("\(path).id", "\(id.utf8.count) bytes", "at most \(TextBounds.audienceID) bytes (it names every batch, whose ids are bounded)")
            }
            let destination: Destination? = {
                guard let text = fields["destination"]?.stringValue, let kind = Destination(name: text) else {
                    fail("\(path).destination", fields["destination"].map { $0.stringValue.map { "\"\($0)\"" } ?? $0.kindDescription } ?? "nothing", "\"x\", \"tiktok\"")
                    return nil
                }
                return kind
            }()
            guard let destination else { return nil }
            let accountKey = destination == .x ? "account" : "advertiser"
            let otherKey = destination == .x ? "advertiser" : "account"
            if fields[otherKey] != nil {
                fail("\(path).\(otherKey)", "a field \(destination.name) connections do not take", "\(accountKey)")
            }
            let account = string(fields[accountKey], "\(path).\(accountKey)", allowed: destination == .x ? "the X Ads account id" : "the TikTok advertiser id")
            let credentials = self.credentials(fields["credentials"], "\(path).credentials", destination: destination)
            let rules = IdentityRules(destination: destination)
            var forward = Set(IdentifierType.kinds.filter(rules.sends))
            if let list = fields["forward"] {
                forward = []
                if case .array(let items) = list, !items.isEmpty {
                    for (index, item) in items.enumerated() {
                        let allowed = IdentifierType.kinds.filter(rules.sends).map { "\"\($0.name)\"" }.joined(separator: ", ")
                        guard let text = item.stringValue, let kind = IdentifierType(name: text), rules.sends(kind) else {
                            let found = item.stringValue.map { "\"\($0)\"" } ?? item.kindDescription
                            fail("\(path).forward[\(index)]", found + (item.stringValue.flatMap(IdentifierType.init(name:)).map { _ in " (\(destination.name) does not take it)" } ?? ""), allowed)
                            continue
                        }
                        forward.insert(kind)
                    }
                } else {
                    fail("\(path).forward", list.kindDescription, "a non-empty array of identifier types")
                }
            }
            let naming = choice(fields["audienceNaming"], "\(path).audienceNaming", default: CohortSyncConfig.Connection.AudienceNaming.single)
            var base = CohortSyncConfig.defaultAPIBaseURL[destination]!
            if let value = fields["apiBaseURL"] {
                if let text = value.stringValue, let url = URLComponents(string: text), ["http", "https"].contains(url.scheme ?? ""),
                    !(url.host ?? "").isEmpty, url.user == nil, url.password == nil, url.query == nil, url.fragment == nil,
                    (url.port ?? 1).isValidPort
                {
                    base = text.hasSuffix("/") ? String(text.dropLast()) : text
                } else {
                    // A URL carrying a user or password is not echoed: the password would reach the logs.
                    let carriesSecret = value.stringValue.flatMap { URLComponents(string: $0) }.map { $0.user != nil || $0.password != nil } ?? false
                    let found = carriesSecret ? "a URL with a user or password (not shown)" : value.stringValue.map { "\"\($0)\"" } ?? value.kindDescription
                    fail("\(path).apiBaseURL", found, "an http(s) URL without user, password, query or fragment (credentials go in credentials), such as \(base) or http://127.0.0.1:8089/12")
                }
            }
            var region: String?
            if let value = fields["defaultRegion"] {
                if let text = value.stringValue, PhoneRegions.isKnown(text) {
                    region = text.uppercased()
                } else {
                    fail("\(path).defaultRegion", value.stringValue.map { "\"\($0)\"" } ?? value.kindDescription, "an ISO 3166 region code libphonenumber knows (\(PhoneRegions.all.count) of them), such as US, GB, DE, IN or BR")
                }
            }
            guard let id, let account, let credentials else { return nil }
            return CohortSyncConfig.Connection(
                id: id, destination: destination, account: account, credentials: credentials, forward: forward, audienceNaming: naming,
                apiBaseURL: base, defaultRegion: region)
        }

        mutating func credentials(_ value: JSONValue?, _ path: String, destination: Destination) -> [String: SecretReference]? {
            let required = CohortSyncConfig.requiredCredentials[destination]!
            guard let fields = object(value, path, keys: required) else { return nil }
            var references: [String: SecretReference] = [:]
            for name in required {
                let entry = "\(path).\(name)"
                switch fields[name] {
                case .object(let reference)? where reference.count == 1:
                    if let variable = reference["env"]?.stringValue, !variable.isEmpty {
                        references[name] = .environment(variable)
                    } else if let file = reference["file"]?.stringValue, !file.isEmpty {
                        references[name] = .file(file)
                    } else {
                        fail(entry, "an object without a usable env or file", #"{"env": "VARIABLE"} or {"file": "/path/to/secret"}"#)
                    }
                case .string?:
                    fail(entry, "a literal string (the secret itself, which is never written to the file)", #"a reference: {"env": "VARIABLE"} or {"file": "/path/to/secret"}"#)
                case let other:
                    fail(entry, other?.kindDescription ?? "nothing", #"{"env": "VARIABLE"} or {"file": "/path/to/secret"}"#)
                }
            }
            return references.count == required.count ? references : nil
        }

        mutating func sync(_ value: JSONValue, _ path: String, declared: [String]) -> CohortSyncConfig.Sync? {
            let keys = ["audience", "connection", "cadence", "deleteOnUpstreamDelete", "maxRemovalFraction", "maxDelaySeconds"]
            guard let fields = object(value, path, keys: keys) else { return nil }
            let audience = string(fields["audience"], "\(path).audience", allowed: "the upstream audience id")
            if let audience, audience.utf8.count > TextBounds.audienceID {
                fail("\(path).audience", "\(audience.utf8.count) bytes", "at most \(TextBounds.audienceID) bytes (ingest refuses longer audience ids)")
            }
            let connection = string(fields["connection"], "\(path).connection", allowed: "the id of a connection")
            if let connection, !declared.contains(connection) {
                fail("\(path).connection", "\"\(connection)\", which no connection has", declared.map { "\"\($0)\"" }.joined(separator: ", "))
            }
            let cadence = choice(fields["cadence"], "\(path).cadence", default: CohortSyncConfig.Sync.Cadence.realtime)
            var deleteOnUpstreamDelete = true
            if let value = fields["deleteOnUpstreamDelete"] {
                if case .bool(let flag) = value { deleteOnUpstreamDelete = flag } else { fail("\(path).deleteOnUpstreamDelete", value.kindDescription, "true or false") }
            }
            var fraction = 0.5
            if let value = fields["maxRemovalFraction"] {
                if case .number(let number) = value, (0...1).contains(number) { fraction = number } else {
                    fail("\(path).maxRemovalFraction", value.kindDescription, "a number from 0 to 1")
                }
            }
            var delay = 5
            if let value = fields["maxDelaySeconds"] {
                if case .number(let number) = value, number >= 1, number <= 86_400, number == number.rounded() { delay = Int(number) } else {
                    fail("\(path).maxDelaySeconds", value.kindDescription, "a whole number of seconds from 1 to 86400")
                }
            }
            guard let audience, let connection, declared.contains(connection) else { return nil }
            return CohortSyncConfig.Sync(
                audienceID: audience, connectionID: connection, cadence: cadence, deleteOnUpstreamDelete: deleteOnUpstreamDelete,
                maxRemovalFraction: fraction, maxDelaySeconds: delay)
        }
    }
}

extension Int {
    /// A TCP port number.
    fileprivate var isValidPort: Bool { (1...65_535).contains(self) }
}
