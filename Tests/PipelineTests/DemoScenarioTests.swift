import Foundation
import TestSupport
import Testing

/// The demo's scenario as a test: every stage as its own process on the local broker, a synthetic cohort of
/// 20,000 members through four phases, and the sandbox compared hash for hash with an expectation that
/// `scripts/demo-cohort.py` computes without the stages' code. A real Prometheus scrapes every stage meanwhile;
/// afterwards every expression of the dashboard and of the alert rules is evaluated against it, and every topic
/// after normalize and every log of the run is scanned for the cohort's raw identifiers and credentials.
@Suite("The demo scenario end to end", .timeLimit(.minutes(10)))
struct DemoScenarioTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    // Ports below the ephemeral range, where the other tests' `--http-port 0` listeners never land.
    static let portBase = 19300
    static let sandboxPort = 19389
    static let prometheusPort = 19390

    @Test("20,000 members: every sandbox audience exact after each phase; every dashboard and alert expression finds its metrics")
    func demoAt20000() async throws {
        let prometheus = try Self.startPrometheus()
        defer { prometheus.stop() }
        // A child of the test process starts with nearly every signal blocked (Foundation's Process passes on
        // the mask of the runner's thread; /proc/<pid>/status showed SigBlk fffffffe3bfbea27), and bash cannot
        // trap a blocked SIGTERM: python unblocks it before it becomes the demo.
        let unblocked = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT}); "
            + "signal.signal(signal.SIGTERM, signal.SIG_DFL); signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv('/bin/bash', ['bash'] + sys.argv[1:])"
        let work = URL(fileURLWithPath: NSTemporaryDirectory() + "cohortsync-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let demo = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", "-c", unblocked, Self.repository.appendingPathComponent("scripts/demo").path, "--members", "20000", "--keep-running"],
            environment: [
                "DEMO_BIN": BuildProducts.directory.path, "DEMO_PORT_BASE": String(Self.portBase), "DEMO_SANDBOX_PORT": String(Self.sandboxPort),
                "KAFKA_BROKERS": TestBroker.bootstrapServers, "DEMO_LOG_LEVEL": "info", "DEMO_WORK_DIR": work.path,
            ])
        defer { demo.stop() }
        let deadline = ContinuousClock.now + .seconds(480)
        while !demo.stdout.contains("The stages keep running"), demo.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let output = demo.stdout
        #expect(output.contains("Every sandbox audience holds exactly the expected members"), "\(output.suffix(3000))\n\(demo.stderr.suffix(2000))")
        for phase in ["snapshot", "churn", "second snapshot", "audience deletion"] {
            #expect(Self.matched(phase, in: output), "phase \(phase) never matched:\n\(output.suffix(3000))")
        }
        let rows = output.split(separator: "\n").filter { line in
            ["ok", "deleted", "DIFFERS"].contains(line.split(separator: " ").last ?? "") && (line.hasPrefix("x ") || line.hasPrefix("tiktok "))
        }
        #expect(rows.count == 10, "one row per destination audience (2 on X, 8 per identifier on TikTok):\n\(output.suffix(3000))")
        #expect(rows.filter { $0.hasSuffix(" ok") }.count == 5)
        #expect(rows.filter { $0.hasSuffix(" deleted") }.count == 5)
        #expect(output.contains("upstream records dead-lettered by ingest: invalid-action 1, invalid-json 1, missing-user 1, unknown-type 1"))

        try #require(demo.isRunning, "the demo ended before its stages could be scraped:\n\(demo.stderr.suffix(2000))")
        try await Self.checkExpressions(prometheus: prometheus)
        demo.send(SIGTERM)  // the demo's trap stops every stage it started and exits with the check's status
        #expect(await demo.waitForExit(timeout: .seconds(60)) == 0)
        // The topics outlive the stages: status reads them with the machine to itself.
        try await Self.checkStatus(output)
        try await PersonalDataScan.check(work: work, demoOutput: demo.stdout + demo.stderr)
    }

    /// Whether the demo printed its "matches" line for `phase` (the phase name is padded into a column).
    static func matched(_ phase: String, in output: String) -> Bool {
        output.split(separator: "\n").contains { line in
            line.trimmingCharacters(in: .whitespaces).hasPrefix(phase) && line.contains("matches the expectation in every audience")
        }
    }

    /// `cohortsync status` agrees with the demo: the X audience's member count as the report expected it,
    /// the deleted audience deleted and empty, the last results succeeded.
    static func checkStatus(_ output: String) async throws {
        let runLine = try #require(output.split(separator: "\n").first { $0.hasPrefix("== run ") })
        let run = String(runLine.dropFirst("== run ".count).prefix { $0 != ":" })
        let expected = try #require(output.split(separator: "\n").first { $0.hasPrefix("x ") && $0.contains("High value buyers") && $0.hasSuffix(" ok") })
            .split(separator: " ", omittingEmptySubsequences: true).dropLast().last.map(String.init)
        let child = try ChildProcess(try BuildProducts.executable("cohortsync"), ["status", "--json"], environment: ["KAFKA_BROKERS": TestBroker.bootstrapServers])
        #expect(await child.waitForExit(timeout: .seconds(240)) == 0, "\(child.stderr)")
        let rows = try OperatorCLITests.rows(fromJSON: child.stdout)
        let mine = rows.filter { $0["connection"] == "x-demo-\(run)" }
        #expect(mine.map { $0["audience"] } == ["aud_cart_abandoners", "aud_high_value"], "\(mine)")
        let kept = try #require(mine.last)
        #expect(kept["state"] == "active")
        #expect(kept["members_sent"] == expected, "status says \(kept["members_sent"] ?? "-") members, the demo expected \(expected ?? "-")")
        #expect(kept["last_result"]?.contains(" succeeded ") == true)
        #expect(kept["destination_audiences"]?.isEmpty == false)
        let deleted = try #require(mine.first)
        #expect(deleted["state"] == "deleted")
        #expect(deleted["members_sent"] == "0")
    }

    /// Prometheus scraping the demo's five stages and its sandbox every second, with the alert rules loaded.
    static func startPrometheus() throws -> ChildProcess {
        let folder = NSTemporaryDirectory() + "cohortsync-prometheus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stages = (1...5).map { "\"127.0.0.1:\(portBase + $0)\"" }.joined(separator: ", ")
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - \(repository.appendingPathComponent("ops/prometheus/alerts.yml").path)
            scrape_configs:
              - job_name: cohortsync
                static_configs:
                  - targets: [\(stages)]
              - job_name: cohortsync-sandbox
                static_configs:
                  - targets: ["127.0.0.1:\(sandboxPort)"]
            """
        try config.write(toFile: folder + "/prometheus.yml", atomically: true, encoding: .utf8)
        return try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "prometheus", "--config.file=\(folder)/prometheus.yml", "--storage.tsdb.path=\(folder)/data",
                "--web.listen-address=127.0.0.1:\(prometheusPort)",
            ])
    }

    /// Every dashboard expression returns at least one series; every alert expression evaluates, and every
    /// metric it names has at least one series (an alert is quiet in a healthy run, its metrics are not).
    static func checkExpressions(prometheus: ChildProcess) async throws {
        try await waitFor("Prometheus to scrape all six targets", timeout: .seconds(60)) {
            (try? await query("count(up == 1)").first?.value) == "6"
        }
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: repository.appendingPathComponent("ops/grafana/dashboards/cohortsync.json")))
        let panels = try #require((dashboard as? [String: Any])?["panels"] as? [[String: Any]])
        let dashboardExpressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(dashboardExpressions.count >= 12)
        for expression in dashboardExpressions {
            let series = try await query(expression)
            #expect(!series.isEmpty, "the dashboard's \(expression) returns no series")
        }
        let rules = try #require(try await Tool.yaml(repository.appendingPathComponent("ops/prometheus/alerts.yml").path) as? [String: Any])
        let groups = try #require(rules["groups"] as? [[String: Any]])
        let alertExpressions = groups.flatMap { ($0["rules"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(alertExpressions.count == 6)
        for expression in alertExpressions + dashboardExpressions {
            _ = try await query(expression)
            let names = Set(expression.matches(of: /cohortsync_[a-z_]+/).map { String($0.output) })
            #expect(!names.isEmpty)
            for name in names {
                #expect(try await !query("count({__name__=\"\(name)\"})").isEmpty, "\(name) (in \(expression)) is exported by no stage")
            }
        }
        #expect(prometheus.isRunning)
    }

    /// An instant query; the result's series as (labels, value). Throws on an expression Prometheus refuses.
    static func query(_ expression: String) async throws -> [(labels: [String: String], value: String)] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = try #require(expression.addingPercentEncoding(withAllowedCharacters: allowed))
        let answer = try await HTTPProbe.get("http://127.0.0.1:\(prometheusPort)/api/v1/query?query=\(encoded)")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
        guard answer.status == 200, body["status"] as? String == "success" else {
            throw TestSupportError("Prometheus refused \(expression): \(answer.body)")
        }
        let result = (body["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        return result.map { series in
            ((series["metric"] as? [String: String]) ?? [:], ((series["value"] as? [Any])?.last as? String) ?? "")
        }
    }

    static func waitFor(_ what: String, timeout: Duration, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if await condition() { return }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw TestSupportError("timed out after \(timeout) waiting for \(what)")
    }
}
