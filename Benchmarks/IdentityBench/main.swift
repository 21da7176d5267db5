// identity-bench: normalize + SHA-256 throughput of the Identity module, in process, on one thread.
// Run with scripts/bench-identity (release build, pinned to one core).
import Foundation
import Hashing
import Identity
import Observability
import Runtime
import Wire

let spec = CommandLineSpec(
    executable: "identity-bench",
    summary: "Normalizes and hashes a mix of identifiers (email, phone, IDFA, handle) with X's and TikTok's rules and reports identifiers/s.",
    options: [
        OptionSpec("count", default: "2000000", help: "Identifiers per destination."),
        OptionSpec("mix", default: "all", help: "all: email, phone, IDFA and handle in turn; phone: phone numbers only, in the forms CRMs hold them."),
    ])
let options = CommandLineEntry.parse(spec)
let count: Int
do { count = try options.integer("count", in: 1...100_000_000) } catch { CommandLineEntry.fail(spec.executable, error.message, status: 64) }

let mix = options.string("mix") ?? "all"
guard ["all", "phone"].contains(mix) else { CommandLineEntry.fail(spec.executable, "--mix must be all or phone, got '\(mix)'", status: 64) }

/// Phone numbers as CRMs hold them, with the default region US: E.164, national, with a leading 1,
/// the country code without +, from abroad with 011, and a British number with (0).
func phone(_ index: Int) -> String {
    let line = 1000 + index % 9000
    switch index % 6 {
    case 0: return "+1201555\(line)"
    case 1: return "(201) 555-\(line)"
    case 2: return "1 (201) 555-\(line)"
    case 3: return "1201555\(line)"
    case 4: return "011 44 7400 12\(line)"
    default: return "+44 (0)20 7946 \(line)"
    }
}

// Inputs are built before the clock starts; with the full mix 1 in 4 each: mixed-case email with spaces,
// formatted phone, upper-case IDFA, @handle.
let inputs: [(IdentifierType, String)] = (0..<count).map { index in
    if mix == "phone" { return (.phone, phone(index / 4)) }
    switch index % 4 {
    case 0: return (.email, " User.\(index)+Promo@Example.COM ")
    case 1: return (.phone, phone(index / 4))
    case 2: return (.idfa, String(format: "%08X-03EE-455A-B3C4-E57283966239", index))
    default: return (.xHandle, "@User_\(index % 100_000)")
    }
}

// A warm-up pass per destination first (page faults, caches), then the measured pass.
for (destination, measured) in [(Destination.x, false), (.x, true), (.tiktok, false), (.tiktok, true)] {
    let rules = IdentityRules(destination: destination, defaultRegion: "US")
    var hashed = 0
    // Comparing each digest with a sentinel keeps the work observable without costing a hash of its own.
    let sentinel = SHA256Digest.hash("sentinel")
    var checksum = 0
    // The stage's path: values read in place, one reused workspace, each value a user of its own (so no
    // work is shared between them).
    var workspace = IdentifierWorkspace()
    let started = ContinuousClock.now
    for (kind, value) in inputs {
        workspace.startUser()
        if case .success(let digest)? = rules.digest(kind, value.utf8.span, in: &workspace) {
            hashed += 1
            if digest == sentinel { checksum &+= 1 }
        }
    }
    let elapsed = ContinuousClock.now - started
    guard measured else { continue }
    let seconds = elapsed.inSeconds
    print(String(format: "%@ (%@): %d identifiers (%d hashed) in %.2f s: %.0f identifiers/s (checksum %d)",
        destination.name, mix, count, hashed, seconds, Double(count) / seconds, checksum))
}
