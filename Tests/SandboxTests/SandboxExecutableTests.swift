import Destinations
import Foundation
import TestSupport
import Testing

/// `cohortsync-sandbox` as users run it: flags, --help, its own /healthz, SIGTERM.
@Suite("The sandbox executable", .timeLimit(.minutes(1)))
struct SandboxExecutableTests {
    @Test("--help prints the interface and the default credentials")
    func help() async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-sandbox"), ["--help"])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 0)
        for fragment in ["--port VALUE", "(default: 8089)", "(default: sandbox-consumer-key)", "(default: sandbox-tiktok-token)", "/_sandbox/audiences"] {
            #expect(child.stdout.contains(fragment), "--help lacks \(fragment)")
        }
    }

    @Test("credentials come from flags; it answers on its port and exits 0 on SIGTERM")
    func runs() async throws {
        let child = try ChildProcess(
            try BuildProducts.executable("cohortsync-sandbox"),
            ["--port", "0", "--tiktok-token", "custom-token", "--faults", #"{"x":{"latency_ms":1}}"#])
        defer { child.stop() }
        let port = try await child.listeningPort(timeout: .seconds(20))
        let health = try await HTTPProbe.get("http://127.0.0.1:\(port)/healthz")
        #expect(health.status == 200)
        let faults = try await HTTPProbe.get("http://127.0.0.1:\(port)/_sandbox/faults")
        #expect(faults.body.contains("\"latency_ms\":1"))
        let create = ["advertiser_id": "a", "action": "create", "custom_audience_name": "n"]
        #expect(try await HTTPProbe.postJSON("http://127.0.0.1:\(port)/open_api/v1.3/segment/audience/", create, headers: ["Access-Token": "sandbox-tiktok-token"]).body.contains("40105"))
        #expect(try await HTTPProbe.postJSON("http://127.0.0.1:\(port)/open_api/v1.3/segment/audience/", create, headers: ["Access-Token": "custom-token"]).body.contains("\"code\":0"))
        child.send(SIGTERM)
        #expect(await child.waitForExit(timeout: .seconds(5)) == 0)
    }

    @Test("a malformed --faults value stops it at start with the field named")
    func badFaults() async throws {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync-sandbox"), ["--port", "0", "--faults", #"{"x":{"drop_rate":7}}"#])
        #expect(await child.waitForExit(timeout: .seconds(10)) == 64)
        #expect(child.stderr.contains("x.drop_rate"))
    }
}
