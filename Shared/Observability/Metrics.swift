import Synchronization

/// A monotonically increasing count, such as records processed.
public final class Counter: Sendable {
    private let value = Atomic<Int64>(0)

    /// Adds `amount` (must not be negative).
    public func increment(by amount: Int64 = 1) {
        value.add(amount, ordering: .relaxed)
    }

    public var current: Int64 { value.load(ordering: .relaxed) }
}

/// A value that goes up and down, such as consumer lag or in-flight batches.
public final class Gauge: Sendable {
    private let bits = Atomic<UInt64>(Double(0).bitPattern)

    public func set(_ newValue: Double) {
        bits.store(newValue.bitPattern, ordering: .relaxed)
    }

    public func add(_ delta: Double) {
        var old = bits.load(ordering: .relaxed)
        while true {
            let (exchanged, original) = bits.compareExchange(
                expected: old, desired: (Double(bitPattern: old) + delta).bitPattern, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    public var current: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}

/// Observations counted into cumulative buckets, such as processing latency in seconds.
public final class Histogram: Sendable {
    /// Upper bounds, ascending; `+Inf` is implied.
    public let buckets: [Double]
    private let state: Mutex<(counts: [Int64], sum: Double, count: Int64)>

    init(buckets: [Double]) {
        self.buckets = buckets
        self.state = Mutex((Array(repeating: 0, count: buckets.count), 0, 0))
    }

    public func observe(_ value: Double) {
        let index = buckets.firstIndex { value <= $0 }
        state.withLock { state in
            if let index { state.counts[index] += 1 }
            state.sum += value
            state.count += 1
        }
    }

    /// Cumulative counts per bucket, the sum and the total count.
    public var snapshot: (cumulative: [Int64], sum: Double, count: Int64) {
        state.withLock { state in
            var running: Int64 = 0
            let cumulative = state.counts.map { count -> Int64 in
                running += count
                return running
            }
            return (cumulative, state.sum, state.count)
        }
    }

    /// Latency buckets in seconds, from 0.5 ms to 10 s.
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
}
