extension Duration {
    /// The duration in seconds, with fractions: the unit of Prometheus histograms and of `Thread.sleep`.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds, rounded up so a sub-second timeout never becomes 0 (which librdkafka reads as
    /// "do not wait"), and capped for the C APIs that take an `Int32`.
    public var inMilliseconds: Int32 {
        let milliseconds = (inSeconds * 1000).rounded(.up)
        return Int32(max(0, min(milliseconds, Double(Int32.max))))
    }
}
