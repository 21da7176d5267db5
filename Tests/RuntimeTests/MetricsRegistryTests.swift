import Observability
import Testing

@Suite("Metrics in Prometheus text format")
struct MetricsRegistryTests {
    @Test("counters, gauges and histograms render with HELP, TYPE, labels and cumulative buckets")
    func rendering() {
        let registry = MetricsRegistry()
        registry.counter("cohortsync_normalize_refused_total", help: "Identifiers refused.", labels: ["reason": "invalid-phone"]).increment(by: 3)
        registry.counter("cohortsync_normalize_refused_total", help: "Identifiers refused.", labels: ["reason": "no-consent"]).increment()
        registry.gauge("cohortsync_batcher_pending_operations", help: "Operations waiting.").set(12.5)
        let histogram = registry.histogram("cohortsync_ingest_processing_seconds", help: "Per-record time.", buckets: [0.01, 0.1, 1])
        histogram.observe(0.005)
        histogram.observe(0.05)
        histogram.observe(5)
        #expect(registry.render() == """
            # HELP cohortsync_batcher_pending_operations Operations waiting.
            # TYPE cohortsync_batcher_pending_operations gauge
            cohortsync_batcher_pending_operations 12.5
            # HELP cohortsync_ingest_processing_seconds Per-record time.
            # TYPE cohortsync_ingest_processing_seconds histogram
            cohortsync_ingest_processing_seconds_bucket{le="0.01"} 1
            cohortsync_ingest_processing_seconds_bucket{le="0.1"} 2
            cohortsync_ingest_processing_seconds_bucket{le="1"} 2
            cohortsync_ingest_processing_seconds_bucket{le="+Inf"} 3
            cohortsync_ingest_processing_seconds_sum 5.055
            cohortsync_ingest_processing_seconds_count 3
            # HELP cohortsync_normalize_refused_total Identifiers refused.
            # TYPE cohortsync_normalize_refused_total counter
            cohortsync_normalize_refused_total{reason="invalid-phone"} 3
            cohortsync_normalize_refused_total{reason="no-consent"} 1

            """)
    }

    @Test("asking again for the same name and labels returns the same instrument")
    func sameInstrument() {
        let registry = MetricsRegistry()
        registry.counter("c_total", help: "h", labels: ["a": "1", "b": "2"]).increment()
        registry.counter("c_total", help: "h", labels: ["b": "2", "a": "1"]).increment()
        #expect(registry.counter("c_total", help: "h", labels: ["a": "1", "b": "2"]).current == 2)
    }

    @Test("label values are escaped")
    func escaping() {
        let registry = MetricsRegistry()
        registry.counter("c_total", help: "h", labels: ["topic": "a\"b\\c\nd"]).increment()
        #expect(registry.render().contains(#"c_total{topic="a\"b\\c\nd"} 1"#))
    }

    @Test("gauges add concurrently without losing updates")
    func concurrentGauge() async {
        let gauge = MetricsRegistry().gauge("g", help: "h")
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<1_000 { gauge.add(1) } }
            }
        }
        #expect(gauge.current == 8_000)
    }
}
