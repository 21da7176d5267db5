extension Duration {
    /// The duration in seconds, with fractions: the unit of Prometheus histograms and of `Thread.sleep`.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
