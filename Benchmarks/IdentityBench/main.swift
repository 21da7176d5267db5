// identity-bench: normalize + SHA-256 throughput of the Identity module, in process, on one thread.
// Run with scripts/bench-identity (release build, pinned to one core).
import Foundation
import Hashing
import Identity
import Runtime

let spec = CommandLineSpec(
    executable: "identity-bench",
    summary: "Normalizes and hashes a mix of identifiers (email, phone, IDFA, handle) with X's and TikTok's rules and reports identifiers/s.",
    options: [OptionSpec("count", default: "2000000", help: "Identifiers per destination.")])
let options = CommandLineEntry.parse(spec)
let count: Int
do { count = try options.integer("count", in: 1...100_000_000) } catch { CommandLineEntry.fail(spec.executable, error.message, status: 64) }

// Inputs are built before the clock starts; 1 in 4 each: mixed-case email with spaces, formatted phone, upper-case IDFA, @handle.
let inputs: [(IdentifierKind, String)] = (0..<count).map { index in
    switch index % 4 {
    case 0: (.email, " User.\(index)+Promo@Example.COM ")
    case 1: (.phone, "+1 (555) \(100 + index % 900)-\(1000 + index % 9000)")
    case 2: (.idfa, String(format: "%08X-03EE-455A-B3C4-E57283966239", index))
    default: (.xHandle, "@User_\(index % 100_000)")
    }
}

// A warm-up pass per destination first (page faults, caches), then the measured pass.
for (destination, measured) in [(DestinationKind.x, false), (.x, true), (.tiktok, false), (.tiktok, true)] {
    let rules = IdentityRules(destination: destination, defaultRegion: "US")
    var hashed = 0
    // Comparing each digest with a sentinel keeps the work observable without costing a hash of its own.
    let sentinel = SHA256Digest.hash("sentinel")
    var checksum = 0
    let started = ContinuousClock.now
    for (kind, value) in inputs {
        if case .success(let digest)? = rules.digest(kind, value) {
            hashed += 1
            if digest == sentinel { checksum &+= 1 }
        }
    }
    let elapsed = ContinuousClock.now - started
    guard measured else { continue }
    let seconds = elapsed.inSeconds
    print(String(format: "%@: %d identifiers (%d hashed) in %.2f s: %.0f identifiers/s (checksum %d)",
        destination.rawValue, count, hashed, seconds, Double(count) / seconds, checksum))
}
