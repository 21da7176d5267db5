extension Array where Element == UInt8 {
    /// Appends the bytes of a view: how encoders copy fields they read in place into their output buffer
    /// (one capacity check for the whole run, not one per byte).
    public mutating func append(span: Span<UInt8>) {
        append(addingCapacity: span.count) { output in
            for index in span.indices { output.append(span[index]) }
        }
    }
}

extension Span where Element == UInt8 {
    /// Whether the view holds exactly the bytes of `other`.
    public func elementsEqual(_ other: Span<UInt8>) -> Bool {
        guard count == other.count else { return false }
        for index in indices where self[index] != other[index] { return false }
        return true
    }
}
