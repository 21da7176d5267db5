import Synchronization

/// The process's metrics, rendered in Prometheus text exposition format (version 0.0.4) for `/metrics`.
///
/// Names follow `cohortsync_<stage>_<what>_<unit>`; counters end in `_total`. Asking twice for the same
/// name and labels returns the same instrument, so call sites can look instruments up instead of passing them.
public final class MetricsRegistry: Sendable {
    private enum Kind: String { case counter, gauge, histogram }

    private struct Family {
        let kind: Kind
        let help: String
        var counters: [MetricLabels: Counter] = [:]
        var gauges: [MetricLabels: Gauge] = [:]
        var histograms: [MetricLabels: Histogram] = [:]
    }

    private let families = Mutex<[String: Family]>([:])

    public init() {}

    /// The counter `name` with `labels`, created on first use.
    public func counter(_ name: String, help: String, labels: MetricLabels = [:]) -> Counter {
        families.withLock { families in
            var family = Self.family(&families, name, .counter, help)
            if let existing = family.counters[labels] { return existing }
            let counter = Counter()
            family.counters[labels] = counter
            families[name] = family
            return counter
        }
    }

    /// The gauge `name` with `labels`, created on first use.
    public func gauge(_ name: String, help: String, labels: MetricLabels = [:]) -> Gauge {
        families.withLock { families in
            var family = Self.family(&families, name, .gauge, help)
            if let existing = family.gauges[labels] { return existing }
            let gauge = Gauge()
            family.gauges[labels] = gauge
            families[name] = family
            return gauge
        }
    }

    /// The histogram `name` with `labels`, created on first use with `buckets`.
    public func histogram(
        _ name: String, help: String, labels: MetricLabels = [:], buckets: [Double] = Histogram.latencyBuckets
    ) -> Histogram {
        families.withLock { families in
            var family = Self.family(&families, name, .histogram, help)
            if let existing = family.histograms[labels] { return existing }
            let histogram = Histogram(buckets: buckets)
            family.histograms[labels] = histogram
            families[name] = family
            return histogram
        }
    }

    private static func family(_ families: inout [String: Family], _ name: String, _ kind: Kind, _ help: String) -> Family {
        if let family = families[name] {
            precondition(family.kind == kind, "metric \(name) is registered as a \(family.kind.rawValue), not a \(kind.rawValue)")
            return family
        }
        return Family(kind: kind, help: help)
    }

    /// Every metric in Prometheus text format, families sorted by name.
    public func render() -> String {
        let snapshot = families.withLock { $0 }
        var out = ""
        for (name, family) in snapshot.sorted(by: { $0.key < $1.key }) {
            out += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.kind.rawValue)\n"
            switch family.kind {
            case .counter:
                for (labels, counter) in family.counters.sorted(by: { $0.key.rendered() < $1.key.rendered() }) {
                    out += "\(name)\(labels.rendered()) \(counter.current)\n"
                }
            case .gauge:
                for (labels, gauge) in family.gauges.sorted(by: { $0.key.rendered() < $1.key.rendered() }) {
                    out += "\(name)\(labels.rendered()) \(Self.format(gauge.current))\n"
                }
            case .histogram:
                for (labels, histogram) in family.histograms.sorted(by: { $0.key.rendered() < $1.key.rendered() }) {
                    let (cumulative, sum, count) = histogram.snapshot
                    for (bound, bucketCount) in zip(histogram.buckets, cumulative) {
                        out += "\(name)_bucket\(labels.rendered(extra: ("le", Self.format(bound)))) \(bucketCount)\n"
                    }
                    out += "\(name)_bucket\(labels.rendered(extra: ("le", "+Inf"))) \(count)\n"
                    out += "\(name)_sum\(labels.rendered()) \(Self.format(sum))\n"
                    out += "\(name)_count\(labels.rendered()) \(count)\n"
                }
            }
        }
        return out
    }

    private static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
