// latency-probe: real-time latency, upstream record to sandbox audience, for scripts/bench-latency.
//
// Writes native `enter` records of new users (one email each) to the upstream topic at a steady rate, noting
// when it handed each to the producer. Meanwhile it reads the sandbox's arrival journal (GET /_sandbox/arrivals:
// when each user reached each destination audience, by the sandbox's clock, which is this machine's clock too)
// and joins the two by the email's SHA-256. Latency is arrival minus writing, per destination.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hashing
import Kafka
import Observability
import Runtime
import Synchronization

let spec = CommandLineSpec(
    executable: "latency-probe",
    summary: """
        Writes RATE membership enters per second for SECONDS to TOPIC (audience aud_latency, one new user with an email each)
        and reports, per destination, the time from writing a record to its user's arrival in the sandbox: p50, p90,
        p99 and the maximum, overall and per 10-second window. Needs the sandbox started with --arrival-journal.
        Exits 1 if any user has not arrived DRAIN seconds after the last record.
        """,
    options: [
        OptionSpec("brokers", environment: "KAFKA_BROKERS", default: "127.0.0.1:9092", help: "Bootstrap servers."),
        OptionSpec("topic", default: "bench.latency", help: "The upstream topic ingest reads."),
        OptionSpec("sandbox", default: "http://127.0.0.1:8089", help: "The sandbox's base URL."),
        OptionSpec("rate", default: "10000", help: "Records per second."),
        OptionSpec("seconds", default: "60", help: "How long to write."),
        OptionSpec("drain", default: "120", help: "Seconds to wait for the last arrivals (and for the warm-up user)."),
    ])

/// The sandbox's arrival journal, read from where the last read ended.
final class ArrivalReader: Sendable {
    private struct State {
        var position = 0
        var arrivals: [String: Int64] = [:]
        var leftOut = 0
    }

    private let url: String
    private let state = Mutex(State())

    init(sandbox: String) {
        url = sandbox + "/_sandbox/arrivals"
    }

    /// Reads every entry written since the last read.
    func catchUp() async throws {
        while true {
            let from = state.withLock { $0.position }
            guard let address = URL(string: "\(url)?from=\(from)") else { throw ProbeError("bad sandbox URL \(url)") }
            let (data, response) = try await URLSession.shared.data(from: address)
            guard (response as? HTTPURLResponse)?.statusCode == 200,
                let page = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                let entries = page["arrivals"] as? [[Any]], let next = page["next"] as? Int
            else {
                throw ProbeError("GET \(address) answered \(String(decoding: data.prefix(300), as: UTF8.self)); start the sandbox with --arrival-journal N")
            }
            state.withLock { state in
                for entry in entries {
                    guard entry.count == 5, let at = (entry[0] as? NSNumber)?.int64Value, let destination = entry[1] as? String,
                        let digest = entry[4] as? String
                    else { continue }
                    let key = destination + "/" + digest
                    if state.arrivals[key] == nil { state.arrivals[key] = at }
                }
                state.position = next
                state.leftOut = page["left_out"] as? Int ?? 0
            }
            if entries.isEmpty { return }
        }
    }

    /// How many entries the journal holds, without reading them.
    func recorded() async throws -> Int {
        guard let address = URL(string: "\(url)?limit=0") else { throw ProbeError("bad sandbox URL \(url)") }
        let (data, _) = try await URLSession.shared.data(from: address)
        guard let page = try JSONSerialization.jsonObject(with: data) as? [String: Any], let recorded = page["recorded"] as? Int else {
            throw ProbeError("GET \(address) answered \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return recorded
    }

    var position: Int { state.withLock { $0.position } }

    func arrival(_ destination: String, _ digest: String) -> Int64? {
        state.withLock { $0.arrivals[destination + "/" + digest] }
    }

    var leftOut: Int { state.withLock { $0.leftOut } }
}

struct ProbeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func milliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

func summary(_ latencies: [Int64]) -> String {
    let sorted = latencies.sorted()
    func at(_ fraction: Double) -> Int64 { sorted[min(sorted.count - 1, Int(fraction * Double(sorted.count)))] }
    func pad(_ value: Int64) -> String { String(repeating: " ", count: max(0, 6 - String(value).count)) + String(value) }
    return "p50 \(pad(at(0.5))) ms  p90 \(pad(at(0.9))) ms  p99 \(pad(at(0.99))) ms  max \(pad(sorted.last!)) ms"
}

let options = CommandLineEntry.parse(spec)
let rate: Int
let duration: Int
let drain: Int
do {
    rate = try options.integer("rate", in: 1...1_000_000)
    duration = try options.integer("seconds", in: 1...3_600)
    drain = try options.integer("drain", in: 1...3_600)
} catch {
    CommandLineEntry.fail(spec.executable, error.message, status: 64)
}
let topic = options.string("topic") ?? "bench.latency"
let run = String(milliseconds())
let destinations = ["x", "tiktok"]
let journal = ArrivalReader(sandbox: options.string("sandbox") ?? "")
let logger = Logger(stage: "latency-probe", minimumLevel: .warning)

/// One native `enter` of a new user into the probe's audience.
@MainActor
func enter(_ email: String, user: String) -> ProducerRecord {
    let json = #"{"type":"membership","audience":{"id":"aud_latency","name":"Latency probe"},"action":"enter","user":{"id":"\#(user)","email":"\#(email)"}}"#
    return ProducerRecord(topic: topic, key: Array("aud_latency".utf8), value: Array(json.utf8))
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Waits until `done` holds, reading the journal every half second; false at the deadline.
/// Waits until `done` holds, checking every half second; false at the deadline.
@MainActor
func poll(within limit: Int, until done: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(limit)
    while ContinuousClock.now < deadline {
        if try await done() { return true }
        try await Task.sleep(for: .milliseconds(500))
    }
    return try await done()
}

do {
    let producer = try KafkaProducer(
        configuration: KafkaConfiguration(properties: ["bootstrap.servers": options.string("brokers") ?? "", "linger.ms": "1"]), logger: logger)
    // One user first, so both destination audiences exist before the clock runs: an audience is created once,
    // and creation is not what real-time latency is about.
    let warmUp = "warmup.\(run)@bench.example"
    var warmUpRecord = OutgoingRecords()
    warmUpRecord.append(enter(warmUp, user: "lat-\(run)-warmup"))
    try await producer.deliver(warmUpRecord)
    let warmDigest = SHA256Digest.hash(warmUp).hex
    let warmedUp = try await poll(within: drain) {
        try await journal.catchUp()
        return destinations.allSatisfy { journal.arrival($0, warmDigest) != nil }
    }
    guard warmedUp else {
        throw ProbeError("the warm-up user did not reach both sandbox audiences in \(drain) s; are every stage and the sandbox running?")
    }
    print("  both audiences exist; writing \(rate) records/s for \(duration) s")

    let failures = Mutex<KafkaError?>(nil)
    let completion = BatchCompletion { result in
        if case .failure(let error) = result { failures.withLock { $0 = $0 ?? error } }
    }
    completion.hold()
    var written: [(digest: String, at: Int64)] = []
    written.reserveCapacity(rate * duration)
    let total = rate * duration
    let start = ContinuousClock.now
    var lastReport = start
    while written.count < total {
        let due = min(total, Int(seconds(ContinuousClock.now - start) * Double(rate)) + 1)
        var records = OutgoingRecords()
        let at = milliseconds()
        while written.count < due {
            let email = "lat\(written.count).\(run)@bench.example"
            records.append(enter(email, user: "lat-\(run)-\(written.count)"))
            written.append((SHA256Digest.hash(email).hex, at))
        }
        try await producer.send(records, completion: completion)
        if ContinuousClock.now - lastReport >= .seconds(10) {
            lastReport = ContinuousClock.now
            print("  \((lastReport - start).components.seconds) s: \(written.count) written")
        }
        let next = start + .seconds(Double(written.count) / Double(rate))
        if next > ContinuousClock.now { try await Task.sleep(until: min(next, ContinuousClock.now + .milliseconds(10))) }
    }
    let writing = ContinuousClock.now - start
    completion.release()
    try await producer.shutdown()
    if let error = failures.withLock({ $0 }) { throw error }
    let writingSeconds = seconds(writing)
    print("  wrote \(total) records in \(String(format: "%.1f", writingSeconds)) s (\(Int(Double(total) / writingSeconds)) records/s)")

    // The journal is read once at the end: it holds the sandbox's own arrival times, and reading it while the
    // records are written would take CPU from the stages measured.
    let expected = journal.position + total * destinations.count
    _ = try await poll(within: drain) { try await journal.recorded() >= expected }
    try await journal.catchUp()
    let first = written.first?.at ?? 0
    var complete = true
    print()
    for destination in destinations {
        var latencies: [Int64] = []
        var windows: [Int64: [Int64]] = [:]
        for entry in written {
            guard let arrived = journal.arrival(destination, entry.digest) else { continue }
            latencies.append(arrived - entry.at)
            windows[(entry.at - first) / 10_000, default: []].append(arrived - entry.at)
        }
        if latencies.count < written.count {
            print("\(destination): \(written.count - latencies.count) of \(written.count) users never arrived (the journal left out \(journal.leftOut))")
            complete = false
        }
        guard !latencies.isEmpty else { continue }
        print("\(destination.padding(toLength: 7, withPad: " ", startingAt: 0))\(latencies.count) users  \(summary(latencies))")
        for window in windows.keys.sorted() {
            print("         \(window * 10)-\(window * 10 + 10) s  \(summary(windows[window]!))")
        }
    }
    exit(complete ? 0 : 1)
} catch {
    CommandLineEntry.fail(spec.executable, String(describing: error), status: 1)
}
