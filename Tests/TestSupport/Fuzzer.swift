import Foundation
import Synchronization

/// A seeded mutation fuzzer: inputs derived from a corpus of valid inputs by libFuzzer's kinds of mutation
/// (bit flips, interesting bytes, inserted and deleted runs, dictionary tokens, splices, repeated slices),
/// with some purely random inputs among them. The same seed gives the same inputs, so any failure is
/// reproduced by `COHORTSYNC_FUZZ_SEED=<seed>` and the index it reports.
public struct Fuzzer {
    /// SplitMix64: tiny, fast and deterministic on every platform, unlike `SystemRandomNumberGenerator`.
    public struct Generator: RandomNumberGenerator {
        private var state: UInt64
        public init(seed: UInt64) { state = seed }
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public let seed: UInt64
    public var generator: Generator
    private let corpus: [[UInt8]]
    private let dictionary: [[UInt8]]
    private let maxLength: Int
    private static let interesting: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x30, 0x39, 0x2D, 0x2E, 0x65, 0xC3, 0xE2, 0xF0]

    /// - Parameters:
    ///   - seed: from `COHORTSYNC_FUZZ_SEED` when set, else `defaultSeed`.
    ///   - corpus: valid inputs to mutate; must not be empty.
    ///   - dictionary: tokens of the input language, inserted whole (`"email"`, `\u0000`, an overlong varint).
    ///   - maxLength: mutations stop growing an input past this many bytes.
    public init(defaultSeed: UInt64, corpus: [[UInt8]], dictionary: [[UInt8]] = [], maxLength: Int = 4_096) {
        precondition(!corpus.isEmpty, "a fuzzer needs at least one seed input")
        seed = ProcessInfo.processInfo.environment["COHORTSYNC_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed
        generator = Generator(seed: seed)
        self.corpus = corpus
        self.dictionary = dictionary.isEmpty ? [[0x22]] : dictionary
        self.maxLength = maxLength
    }

    /// How many inputs a fuzz test runs: `COHORTSYNC_FUZZ_INPUTS` when set, else `standard`.
    public static func inputCount(standard: Int) -> Int {
        ProcessInfo.processInfo.environment["COHORTSYNC_FUZZ_INPUTS"].flatMap { Int($0) } ?? standard
    }

    /// The next input: one in twenty purely random, the rest a corpus entry with one to five mutations.
    public mutating func next() -> [UInt8] {
        if Int.random(in: 0..<20, using: &generator) == 0 {
            return (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        var input = corpus[Int.random(in: 0..<corpus.count, using: &generator)]
        // One mutation half of the time, two a quarter, up to five: most inputs stay close enough to valid to
        // get past the first checks, and some wander far.
        var mutations = 1
        while mutations < 5, Bool.random(using: &generator) { mutations += 1 }
        for _ in 0..<mutations {
            mutate(&input)
        }
        return input
    }

    private mutating func position(in input: [UInt8], allowingEnd: Bool) -> Int {
        let upper = allowingEnd ? input.count : input.count - 1
        return upper <= 0 ? 0 : Int.random(in: 0...upper, using: &generator)
    }

    private mutating func mutate(_ input: inout [UInt8]) {
        let growing = input.count < maxLength
        switch Int.random(in: 0..<10, using: &generator) {
        case 0 where !input.isEmpty:
            let at = position(in: input, allowingEnd: false)
            input[at] ^= 1 << UInt8.random(in: 0...7, using: &generator)
        case 1 where !input.isEmpty:
            input[position(in: input, allowingEnd: false)] = Self.interesting.randomElement(using: &generator)!
        case 2 where growing:
            let bytes = (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            input.insert(contentsOf: bytes, at: position(in: input, allowingEnd: true))
        case 3 where !input.isEmpty:
            let start = position(in: input, allowingEnd: false)
            let end = min(input.count, start + Int.random(in: 1...16, using: &generator))
            input.removeSubrange(start..<end)
        case 4 where growing && !input.isEmpty:
            let start = position(in: input, allowingEnd: false)
            let slice = Array(input[start..<min(input.count, start + Int.random(in: 1...32, using: &generator))])
            input.insert(contentsOf: slice, at: position(in: input, allowingEnd: true))
        case 5 where growing, 6 where growing:
            input.insert(contentsOf: dictionary.randomElement(using: &generator)!, at: position(in: input, allowingEnd: true))
        case 7 where !input.isEmpty:
            input.removeSubrange(position(in: input, allowingEnd: false)...)
        case 8:
            let other = corpus.randomElement(using: &generator)!
            let cut = position(in: input, allowingEnd: true)
            let from = position(in: other, allowingEnd: true)
            input = Array(input[..<cut]) + Array(other[from...].prefix(maxLength))
        case 9 where growing && !input.isEmpty:
            // A slice repeated many times: nesting bombs (`[[[[`), long strings, many fields.
            let start = position(in: input, allowingEnd: false)
            let slice = Array(input[start..<min(input.count, start + Int.random(in: 1...4, using: &generator))])
            let times = Int.random(in: 2...max(2, (maxLength - input.count) / max(slice.count, 1)), using: &generator)
            var repeated: [UInt8] = []
            repeated.reserveCapacity(slice.count * times)
            for _ in 0..<times { repeated.append(contentsOf: slice) }
            input.insert(contentsOf: repeated, at: start)
        default:
            input.insert(Self.interesting.randomElement(using: &generator)!, at: position(in: input, allowingEnd: true))
        }
    }

    /// Runs `check` on `count` inputs with a watchdog: an input that takes longer than `hangAfter` is written
    /// to a file and the process stops, since a hang cannot be interrupted from inside the process. A check
    /// that throws fails the run, naming the seed and the input's index.
    public mutating func run(
        target: String, count: Int, hangAfter: Duration = .seconds(10), _ check: (Int, [UInt8]) throws -> Void
    ) throws -> FuzzReport {
        let watchdog = HangWatchdog(target: target, seed: seed, limit: hangAfter)
        defer { watchdog.stop() }
        let clock = ContinuousClock()
        var slowest = Duration.zero
        var bytes = 0
        let started = clock.now
        for index in 0..<count {
            let input = next()
            bytes += input.count
            watchdog.begin(index: index, input: input)
            let inputStarted = clock.now
            do {
                try check(index, input)
            } catch {
                throw TestSupportError("fuzz \(target): input \(index) of seed \(seed) (COHORTSYNC_FUZZ_SEED=\(seed)) failed: \(error); input (base64) \(Data(input).base64EncodedString())")
            }
            slowest = max(slowest, clock.now - inputStarted)
        }
        watchdog.end()
        return FuzzReport(inputs: count, bytes: bytes, elapsed: clock.now - started, slowest: slowest)
    }
}

/// What a fuzz run covered.
public struct FuzzReport: Sendable, CustomStringConvertible {
    public let inputs: Int
    public let bytes: Int
    public let elapsed: Duration
    public let slowest: Duration
    public var description: String { "\(inputs) inputs, \(bytes) bytes in \(elapsed), slowest input \(slowest)" }
}

/// Watches a fuzz loop from its own thread (which ends after `stop()`); stops the process with the
/// offending input when one hangs.
final class HangWatchdog: Sendable {
    private struct Current {
        var index = -1
        var input: [UInt8] = []
        var started = ContinuousClock.now
        var stopped = false
    }
    private let current = Mutex(Current())

    init(target: String, seed: UInt64, limit: Duration) {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.25)
                let hung = current.withLock { state -> (Int, [UInt8])? in
                    if state.stopped { return nil }
                    guard state.index >= 0, ContinuousClock.now - state.started > limit else { return nil }
                    return (state.index, state.input)
                }
                if current.withLock({ $0.stopped }) { return }
                guard let (index, input) = hung else { continue }
                let path = NSTemporaryDirectory() + "fuzz-hang-\(target)-\(seed)-\(index).bin"
                _ = FileManager.default.createFile(atPath: path, contents: Data(input))
                fatalError("fuzz \(target): input \(index) of seed \(seed) ran longer than \(limit); it is saved in \(path)")
            }
        }
        thread.start()
    }

    func begin(index: Int, input: [UInt8]) {
        current.withLock {
            $0.index = index
            $0.input = input
            $0.started = ContinuousClock.now
        }
    }

    func end() {
        current.withLock { $0.index = -1 }
    }

    func stop() {
        current.withLock { $0.stopped = true }
    }
}
