/// A regular expression over decimal digits, in the subset libphonenumber's metadata is written in:
/// digits, `\d`, classes (`[2-9]`), groups (`(...)`, `(?:...)`), alternation, `?`, `{n}`, `{n,m}` and `$`.
///
/// Matching backtracks in the order Python's and Java's engines do (alternatives left to right, greedy
/// quantifiers), so the first match and its groups are the ones libphonenumber sees. It works on digit
/// values (0-9, not ASCII) and allocates nothing unless groups are asked for: phone parsing runs it on
/// the hot path, where a general regex engine would cost more than all the other identifier rules.
struct DigitPattern: Sendable {
    /// One node of the pattern, plain data so that matching retains nothing: children are ranges of
    /// `children` (sequence, alternatives) or one node index (group, repetition).
    struct Node: Sendable {
        enum Kind: UInt8, Sendable {
            /// One digit out of `set` (bit d set: digit d matches).
            case digit
            /// The end of the input (`$`).
            case end
            case sequence
            case alternatives
            /// A group; a capturing one has a 1-based `group`.
            case group
            /// `child` between `min` and `max` times, greedily.
            case repetition
        }

        var kind: Kind
        var set: UInt16 = 0
        var group: Int32 = 0
        var min: Int32 = 0
        var max: Int32 = 0
        /// Sequence and alternatives: the first of `count` entries in `children`; group and repetition: the child node.
        var first: Int32 = 0
        var count: Int32 = 0
    }

    /// Where a prefix match ended, and each capturing group's range (nil: the group did not take part).
    struct PrefixMatch {
        let end: Int
        let groups: [Range<Int>?]
    }

    let nodes: [Node]
    let children: [Int32]
    let root: Int
    /// Capturing groups in the pattern.
    let groupCount: Int
    /// The shortest and longest input the pattern can match whole: most inputs are ruled out by length alone.
    let lengths: ClosedRange<Int>

    /// Compiles `source`.
    /// - Throws: `DigitPatternError` naming the offset of a construct outside the subset.
    init(_ source: String) throws(DigitPatternError) {
        var parser = DigitPatternParser(Array(source.utf8))
        root = try parser.parse()
        nodes = parser.nodes
        children = parser.children
        groupCount = parser.groupCount
        lengths = Self.lengths(of: root, nodes, children)
    }

    /// Whether the whole of `digits` matches (Python's `fullmatch`).
    func matchesWhole(_ digits: [UInt8]) -> Bool {
        guard lengths.contains(digits.count) else { return false }
        return Matcher(nodes: nodes, children: children, input: digits, captures: nil).match(root, 0) { $0 == digits.count }
    }

    /// The lengths of input `index` can match (the upper bound capped, so open counts stay finite).
    private static func lengths(of index: Int, _ nodes: [Node], _ children: [Int32]) -> ClosedRange<Int> {
        let cap = 1 << 20
        let node = nodes[index]
        let parts = (Int(node.first)..<Int(node.first + node.count)).map { lengths(of: Int(children[$0]), nodes, children) }
        switch node.kind {
        case .digit: return 1...1
        case .end: return 0...0
        case .sequence: return parts.reduce(0...0) { $0.lowerBound + $1.lowerBound...min(cap, $0.upperBound + $1.upperBound) }
        case .alternatives: return parts.map(\.lowerBound).min()!...parts.map(\.upperBound).max()!
        case .group: return lengths(of: Int(node.first), nodes, children)
        case .repetition:
            let inner = lengths(of: Int(node.first), nodes, children)
            return inner.lowerBound * Int(node.min)...min(cap, inner.upperBound * min(Int(node.max), cap))
        }
    }

    /// The first match starting at the beginning of `digits` (Python's `match`), with its groups.
    func matchPrefix(_ digits: [UInt8]) -> PrefixMatch? {
        let captures = groupCount > 0 ? CaptureBuffer(count: groupCount + 1) : nil
        var end: Int?
        let matched = Matcher(nodes: nodes, children: children, input: digits, captures: captures).match(root, 0) { position in
            end = position
            return true
        }
        guard matched, let end else { return nil }
        return PrefixMatch(end: end, groups: captures.map { Array($0.ranges.dropFirst()) } ?? [])
    }
}

/// Why a pattern is outside the subset `DigitPattern` reads.
struct DigitPatternError: Error, Sendable, CustomStringConvertible {
    let offset: Int
    let expected: String
    var description: String { "pattern offset \(offset): expected \(expected)" }
}

/// Group ranges while matching; restored on backtracking.
private final class CaptureBuffer {
    var ranges: [Range<Int>?]
    init(count: Int) { ranges = Array(repeating: nil, count: count) }
}

/// Depth-first matching with continuations: each node calls `next` with where it ended, and a failing
/// `next` makes it try its next alternative. The closures are non-escaping, so matching allocates nothing.
private struct Matcher {
    let nodes: [DigitPattern.Node]
    let children: [Int32]
    let input: [UInt8]
    let captures: CaptureBuffer?

    func match(_ index: Int, _ position: Int, _ next: (Int) -> Bool) -> Bool {
        let node = nodes[index]
        switch node.kind {
        case .digit:
            return position < input.count && node.set & (1 << UInt16(input[position])) != 0 && next(position + 1)
        case .end:
            return position == input.count && next(position)
        case .sequence:
            return sequence(Int(node.first), Int(node.first + node.count), position, next)
        case .alternatives:
            for entry in Int(node.first)..<Int(node.first + node.count) where match(Int(children[entry]), position, next) { return true }
            return false
        case .group:
            guard node.group > 0, let captures else { return match(Int(node.first), position, next) }
            let number = Int(node.group)
            return match(Int(node.first), position) { end in
                let saved = captures.ranges[number]
                captures.ranges[number] = position..<end
                if next(end) { return true }
                captures.ranges[number] = saved
                return false
            }
        case .repetition:
            let inner = nodes[Int(node.first)]
            let min = Int(node.min)
            let max = Int(node.max)
            guard inner.kind == .digit else { return repetition(Int(node.first), min, max, 0, position, next) }
            // A run of one digit class (`\d{7}`, `[2-9]{0,2}`): count the run once, then try lengths longest first.
            var run = 0
            while run < max, position + run < input.count, inner.set & (1 << UInt16(input[position + run])) != 0 { run += 1 }
            guard run >= min else { return false }
            for length in stride(from: run, through: min, by: -1) where next(position + length) { return true }
            return false
        }
    }

    private func sequence(_ entry: Int, _ end: Int, _ position: Int, _ next: (Int) -> Bool) -> Bool {
        guard entry < end else { return next(position) }
        return match(Int(children[entry]), position) { sequence(entry + 1, end, $0, next) }
    }

    /// Greedy: one more repetition first, then stop if enough were matched.
    private func repetition(_ inner: Int, _ min: Int, _ max: Int, _ count: Int, _ position: Int, _ next: (Int) -> Bool) -> Bool {
        if count < max, match(inner, position, { end in end != position && repetition(inner, min, max, count + 1, end, next) }) {
            return true
        }
        return count >= min && next(position)
    }
}

/// Recursive descent over the pattern text, appending nodes as it goes; each method returns a node index.
private struct DigitPatternParser {
    typealias Node = DigitPattern.Node

    let text: [UInt8]
    var index = 0
    var groupCount = 0
    var nodes: [Node] = []
    var children: [Int32] = []

    init(_ text: [UInt8]) {
        self.text = text
    }

    mutating func parse() throws(DigitPatternError) -> Int {
        let node = try alternatives()
        guard index == text.count else { throw DigitPatternError(offset: index, expected: "the end of the pattern") }
        return node
    }

    private mutating func add(_ node: Node) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    /// A node over `parts`: the part itself when there is one, else a sequence or alternatives node.
    private mutating func combine(_ kind: Node.Kind, _ parts: [Int]) -> Int {
        if parts.count == 1 { return parts[0] }
        let first = Int32(children.count)
        children += parts.map(Int32.init)
        return add(Node(kind: kind, first: first, count: Int32(parts.count)))
    }

    private mutating func alternatives() throws(DigitPatternError) -> Int {
        var options = [try sequence()]
        while peek("|") {
            index += 1
            options.append(try sequence())
        }
        return combine(.alternatives, options)
    }

    private mutating func sequence() throws(DigitPatternError) -> Int {
        var parts: [Int] = []
        while index < text.count, !peek("|"), !peek(")") {
            parts.append(try quantified(try atom()))
        }
        return combine(.sequence, parts)
    }

    private mutating func atom() throws(DigitPatternError) -> Int {
        let byte = text[index]
        index += 1
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return add(Node(kind: .digit, set: 1 << UInt16(byte - UInt8(ascii: "0"))))
        case UInt8(ascii: "\\"):
            guard peek("d") else { throw DigitPatternError(offset: index, expected: "d after a backslash") }
            index += 1
            return add(Node(kind: .digit, set: 0x3FF))
        case UInt8(ascii: "$"):
            return add(Node(kind: .end))
        case UInt8(ascii: "["):
            return add(Node(kind: .digit, set: try digitClass()))
        case UInt8(ascii: "("):
            var number: Int32 = 0
            if peek("?") {
                guard index + 1 < text.count, text[index + 1] == UInt8(ascii: ":") else { throw DigitPatternError(offset: index, expected: "(?:") }
                index += 2
            } else {
                groupCount += 1
                number = Int32(groupCount)
            }
            let inner = try alternatives()
            guard peek(")") else { throw DigitPatternError(offset: index, expected: ")") }
            index += 1
            return add(Node(kind: .group, group: number, first: Int32(inner)))
        default:
            throw DigitPatternError(offset: index - 1, expected: "a digit, \\d, [, ( or $")
        }
    }

    private mutating func digitClass() throws(DigitPatternError) -> UInt16 {
        var set: UInt16 = 0
        while index < text.count, !peek("]") {
            if peek("\\") {
                guard index + 1 < text.count, text[index + 1] == UInt8(ascii: "d") else { throw DigitPatternError(offset: index, expected: "\\d") }
                set |= 0x3FF
                index += 2
                continue
            }
            let low = try classDigit()
            var high = low
            if peek("-"), index + 1 < text.count, text[index + 1] != UInt8(ascii: "]") {
                index += 1
                high = try classDigit()
            }
            guard low <= high else { throw DigitPatternError(offset: index, expected: "an ascending range") }
            for digit in low...high { set |= 1 << UInt16(digit) }
        }
        guard peek("]") else { throw DigitPatternError(offset: index, expected: "]") }
        index += 1
        return set
    }

    private mutating func classDigit() throws(DigitPatternError) -> UInt8 {
        guard index < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[index]) else {
            throw DigitPatternError(offset: index, expected: "a digit in a class")
        }
        index += 1
        return text[index - 1] - UInt8(ascii: "0")
    }

    private mutating func quantified(_ node: Int) throws(DigitPatternError) -> Int {
        if peek("?") {
            index += 1
            return add(Node(kind: .repetition, min: 0, max: 1, first: Int32(node)))
        }
        guard peek("{") else { return node }
        index += 1
        let min = try number()
        var max = min
        if peek(",") {
            index += 1
            max = peek("}") ? Int(Int32.max) : try number()
        }
        guard peek("}"), min <= max else { throw DigitPatternError(offset: index, expected: "} closing {n} or {n,m}") }
        index += 1
        return add(Node(kind: .repetition, min: Int32(min), max: Int32(max), first: Int32(node)))
    }

    private mutating func number() throws(DigitPatternError) -> Int {
        var value = 0
        let start = index
        while index < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[index]), value < 1000 {
            value = value * 10 + Int(text[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > start else { throw DigitPatternError(offset: index, expected: "a count") }
        return value
    }

    private func peek(_ character: Unicode.Scalar) -> Bool {
        index < text.count && text[index] == UInt8(ascii: character)
    }
}
