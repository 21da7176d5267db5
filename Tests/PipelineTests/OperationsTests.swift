import Foundation
import TestSupport
import Testing

/// The files an operator deploys with, checked without a Docker engine or a cluster: docker-compose.yml,
/// the kustomize overlays, the alert rules, and that every command, variable and port in them is one the
/// executables take.
@Suite("Operations files: compose, Kubernetes, alert rules")
struct OperationsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("docker-compose config accepts docker-compose.yml")
    func composeConfig() async throws {
        let result = try await Tool.run(["docker-compose", "-f", Self.path("docker-compose.yml"), "config", "-q"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("every compose service running a CohortSync executable uses only its options and variables, and publishes the port it listens on")
    func composeAgreesWithExecutables() async throws {
        let compose = try #require(try await Tool.yaml(Self.path("docker-compose.yml")) as? [String: Any])
        let services = try #require(compose["services"] as? [String: [String: Any]])
        let credentialVariables = try Self.credentialVariables(Self.path("ops/compose/config.json"))
        var checked: Set<String> = []
        for (name, service) in services {
            let words: [String]
            if let command = service["command"] as? [String], service["entrypoint"] == nil {
                words = command
            } else if let script = (service["command"] as? [String])?.first, (service["entrypoint"] as? [String]) == ["/bin/sh", "-c"] {
                words = script.split(separator: " ").map(String.init)
            } else {
                continue
            }
            guard let executable = words.first, executable.hasPrefix("cohortsync") else { continue }
            let help = try await Self.help(executable)
            for flag in words where flag.hasPrefix("--") {
                #expect(help.contains("  \(flag) ") || help.contains("  \(flag)\n"), "\(name): \(executable) has no option \(flag)")
            }
            let environment = service["environment"] as? [String: Any] ?? [:]
            for variable in environment.keys {
                let known = help.contains("[env \(variable)]") || variable.hasPrefix("KAFKA_") || credentialVariables.contains(variable)
                #expect(known, "\(name): \(executable) reads no variable \(variable)")
            }
            if let ports = service["ports"] as? [String] {
                let listening = Self.value(after: executable == "cohortsync-sandbox" ? "--port" : "--http-port", in: words)
                for port in ports {
                    #expect(port.split(separator: ":").last.map(String.init) == listening, "\(name) publishes \(port) but listens on \(listening ?? "its default")")
                }
            }
            checked.insert(name)
        }
        #expect(checked == ["topics", "sandbox", "ingest", "normalize", "batcher", "upload-x", "upload-tiktok"])

        let prometheus = try #require(try await Tool.yaml(Self.path("ops/compose/prometheus.yml")) as? [String: Any])
        let jobs = try #require(prometheus["scrape_configs"] as? [[String: Any]])
        let targets = Set(jobs.flatMap { (($0["static_configs"] as? [[String: Any]]) ?? []).flatMap { ($0["targets"] as? [String]) ?? [] } })
        var published: Set<String> = []
        for name in checked where name != "topics" {
            let words = try #require(services[name]?["command"] as? [String])
            published.insert("\(name):\(try #require(Self.value(after: name == "sandbox" ? "--port" : "--http-port", in: words)))")
        }
        #expect(targets == published, "Prometheus scrapes \(targets.sorted()), the services listen on \(published.sorted())")
    }

    @Test("the configurations shipped in ops/ are valid", arguments: ["ops/compose/config.json", "ops/kubernetes/base/config.json"])
    func shippedConfigurations(_ file: String) async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-normalize"), ["--config", Self.path(file), "--print-config"])
        #expect(await child.waitForExit(timeout: .seconds(20)) == 0, "\(child.stderr)")
    }

    @Test("kubectl kustomize builds each overlay and kubernetes-validate accepts every object (KEDA's ScaledObject has no schema there)", arguments: ["dev", "prod"])
    func kustomizeOverlay(_ overlay: String) async throws {
        let built = try await Tool.run(["kubectl", "kustomize", Self.path("ops/kubernetes/overlays/\(overlay)")])
        #expect(built.status == 0, "\(built.stderr)")
        let manifest = NSTemporaryDirectory() + "cohortsync-\(overlay)-\(UUID().uuidString).yaml"
        try built.stdout.write(toFile: manifest, atomically: true, encoding: .utf8)
        let validated = try await Tool.run(["kubernetes-validate", "--strict", "--quiet", manifest])
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")

        // The validator refuses what it should: the same manifest with a replica count that is no number.
        let broken = manifest + ".broken.yaml"
        let replicas = try #require(built.stdout.range(of: "replicas: "))
        try built.stdout.replacingCharacters(in: replicas, with: "replicas: two-").write(toFile: broken, atomically: true, encoding: .utf8)
        #expect(try await Tool.run(["kubernetes-validate", "--strict", "--quiet", broken]).status != 0)

        let objects = try await Tool.yamlDocuments(manifest)
        let deployments = objects.filter { $0["kind"] as? String == "Deployment" }
        #expect(deployments.count == 5)
        #expect(objects.filter { $0["kind"] as? String == "PodDisruptionBudget" }.count == 5)
        #expect(objects.filter { $0["kind"] as? String == "ScaledObject" }.count == 5)
        for deployment in deployments {
            let spec = try #require((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])
            let containers = try #require((spec["spec"] as? [String: Any])?["containers"] as? [[String: Any]])
            let container = try #require(containers.first)
            let command = try #require(container["command"] as? [String])
            let help = try await Self.help(try #require(command.first))
            for flag in command where flag.hasPrefix("--") {
                #expect(help.contains("  \(flag) "), "\(command[0]) has no option \(flag)")
            }
            let variables = (container["env"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            for variable in variables {
                #expect(help.contains("[env \(variable)]"), "\(command[0]) reads no variable \(variable)")
            }
            let httpPort = (container["env"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "HTTP_PORT" }?["value"] as? String
            let declared = (container["ports"] as? [[String: Any]] ?? []).compactMap { $0["containerPort"] as? Int }
            #expect(declared.map(String.init) == [try #require(httpPort)], "\(command[0]): the container port is not the port it listens on")
        }
    }

    @Test("promtool accepts the alert rules, and each fires on the series that should fire it, from a fresh start")
    func alertRules() async throws {
        let checked = try await Tool.run(["promtool", "check", "rules", Self.path("ops/prometheus/alerts.yml")])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("SUCCESS: 6 rules found"))
        let tested = try await Tool.run(["promtool", "test", "rules", Self.path("ops/prometheus/alerts-test.yml")])
        #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")
        let fired = try String(contentsOfFile: Self.path("ops/prometheus/alerts-test.yml"), encoding: .utf8)
        for alert in ["ConsumerLagGrowing", "DeadLetters", "NoResults", "ConnectionPaused", "RateLimited", "RemovalHeld"] {
            #expect(fired.contains("alertname: CohortSync\(alert)\n        exp_alerts:\n          - exp_labels"), "no test makes CohortSync\(alert) fire")
        }
    }

    static func path(_ relative: String) -> String {
        repository.appendingPathComponent(relative).path
    }

    static func help(_ executable: String) async throws -> String {
        let child = try ChildProcess(try BuildProducts.executable(executable), ["--help"])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 0)
        return child.stdout
    }

    static func value(after flag: String, in words: [String]) -> String? {
        guard let index = words.firstIndex(of: flag), index + 1 < words.count else { return nil }
        return words[index + 1]
    }

    /// The environment variables a configuration's credentials name (`{"env": "X_TOKEN"}`).
    static func credentialVariables(_ path: String) throws -> Set<String> {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let connections = try #require(config["connections"] as? [[String: Any]])
        return Set(connections.flatMap { (($0["credentials"] as? [String: [String: String]]) ?? [:]).values.compactMap { $0["env"] } })
    }
}

/// Command-line tools the operations tests drive: run one, read YAML through Python's PyYAML (which
/// kubernetes-validate brings).
enum Tool {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> Result {
        let child = try ChildProcess(URL(fileURLWithPath: "/usr/bin/env"), arguments)
        defer { child.stop() }
        guard let status = await child.waitForExit(timeout: timeout) else {
            throw TestSupportError("\(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        if status == 127 { throw TestSupportError("\(arguments[0]) is not installed; `make ops-tools` installs it") }
        return Result(status: status, stdout: child.stdout, stderr: child.stderr)
    }

    static func yaml(_ path: String) async throws -> Any {
        let result = try await run(["python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path])
        guard result.status == 0 else { throw TestSupportError("cannot read \(path) as YAML: \(result.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    static func yamlDocuments(_ path: String) async throws -> [[String: Any]] {
        let result = try await run(["python3", "-c", "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))", path])
        guard result.status == 0 else { throw TestSupportError("cannot read \(path) as YAML: \(result.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    }
}
