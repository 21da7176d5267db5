import Foundation

/// Label names and values of one time series, in a fixed order.
public struct MetricLabels: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    public let pairs: [(String, String)]

    public init(_ pairs: [(String, String)]) {
        self.pairs = pairs.sorted { $0.0 < $1.0 }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public static func == (lhs: MetricLabels, rhs: MetricLabels) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0 == $1 }
    }

    public func hash(into hasher: inout Hasher) {
        for (name, value) in pairs {
            hasher.combine(name)
            hasher.combine(value)
        }
    }

    /// `{a="1",b="2"}` in Prometheus text format, or empty without labels; `extra` is appended last.
    func rendered(extra: (String, String)? = nil) -> String {
        let all = pairs + (extra.map { [$0] } ?? [])
        guard !all.isEmpty else { return "" }
        return "{" + all.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
