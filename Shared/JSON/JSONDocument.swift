/// A JSON text read once into a flat index of its values: no object per value, no string made until one is
/// asked for. Ingest reads every upstream record this way and decodes only the fields it uses.
///
/// Values are addressed by index, the root at `root`. An object's members follow it as key, value, key,
/// value…, each value with its whole subtree; `JSONReader` builds it and checks the whole text strictly.
public struct JSONDocument: Sendable {
    /// The kind of a value.
    public enum Kind: UInt8, Sendable, CustomStringConvertible {
        case null, bool, number, string, array, object

        /// A short description for error messages; never the value itself.
        public var description: String {
            switch self {
            case .null: "null"
            case .bool: "a boolean"
            case .number: "a number"
            case .string: "a string"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    struct Entry: Sendable {
        var kind: Kind
        /// `true` for a boolean; for a string, whether it holds escapes (its bytes are not its text).
        var flag: Bool
        /// The value's bytes: a string's between its quotes, a number's digits, a container's brackets.
        var start: Int32
        var end: Int32
        /// The index after this value's subtree (itself for a scalar: the next index).
        var after: Int32
    }

    let bytes: [UInt8]
    let entries: [Entry]

    /// The index of the top-level value.
    public var root: Int { 0 }

    /// The kind of the value at `index`.
    public func kind(_ index: Int) -> Kind { entries[index].kind }

    /// A short description of a value's kind for error messages; never the value itself.
    public func kindDescription(_ index: Int) -> String { entries[index].kind.description }

    /// The value of the boolean at `index`.
    public func bool(_ index: Int) -> Bool { entries[index].flag }

    /// The number at `index` as written (`-12`, `3.5e2`).
    public func numberText(_ index: Int) -> String {
        let entry = entries[index]
        return String(decoding: bytes[Int(entry.start)..<Int(entry.end)], as: UTF8.self)
    }

    /// The string at `index`, escapes resolved. The reader checked it, so decoding cannot repair anything.
    public func string(_ index: Int) -> String {
        let entry = entries[index]
        let raw = bytes[Int(entry.start)..<Int(entry.end)]
        guard entry.flag else { return String(decoding: raw, as: UTF8.self) }
        return String(decoding: Self.unescaped(raw), as: UTF8.self)
    }

    /// The UTF-8 of the string at `index`, escapes resolved, without making a `String`: in place when it
    /// holds no escape.
    public func stringBytes(_ index: Int) -> ArraySlice<UInt8> {
        let entry = entries[index]
        let raw = bytes[Int(entry.start)..<Int(entry.end)]
        return entry.flag ? ArraySlice(Self.unescaped(raw)) : raw
    }

    /// The value under `key` in the object at `object`, or nil when it has no such member.
    /// - Throws: `JSONDuplicateKey` when `key` appears more than once.
    ///
    /// Keys compare byte for byte after escapes are resolved, as JavaScript compares them.
    public func value(_ key: String, in object: Int) throws(JSONDuplicateKey) -> Int? {
        var found: Int?
        var member = object + 1
        let end = Int(entries[object].after)
        let wanted = key.utf8.span
        while member < end {
            let value = member + 1
            let entry = entries[member]
            // Most members are ruled out by their length alone, without a call; escaped names are compared
            // by the text they stand for.
            if (entry.flag || Int(entry.end - entry.start) == wanted.count) && keyMatches(member, wanted) {
                if found != nil { throw JSONDuplicateKey(key: key) }
                found = value
            }
            member = Int(entries[value].after)
        }
        return found
    }

    private func keyMatches(_ index: Int, _ wanted: Span<UInt8>) -> Bool {
        let entry = entries[index]
        if entry.flag {
            // An escape takes 2 to 6 bytes for 1 to 3 bytes of text (12 for 4): a key whose length rules a
            // match out is not decoded, so a long escaped key costs nothing per lookup.
            let rawCount = Int(entry.end - entry.start)
            guard wanted.count <= rawCount, wanted.count * 6 >= rawCount else { return false }
            let text = Self.unescaped(bytes[Int(entry.start)..<Int(entry.end)])
            guard text.count == wanted.count else { return false }
            for offset in 0..<text.count where text[offset] != wanted[offset] { return false }
            return true
        }
        let start = Int(entry.start)
        guard Int(entry.end) - start == wanted.count else { return false }
        for offset in 0..<wanted.count where bytes[start + offset] != wanted[offset] { return false }
        return true
    }

    /// The indices of the elements of the array at `array`, in order.
    public func elements(of array: Int) -> [Int] {
        var elements: [Int] = []
        var element = array + 1
        while element < Int(entries[array].after) {
            elements.append(element)
            element = Int(entries[element].after)
        }
        return elements
    }

    /// Calls `body` with each element index of the array at `array`, in order, without collecting them: for
    /// loops over request bodies of thousands of values, where an array per container would cost more than the loop.
    public func forEachElement<Failure: Error>(of array: Int, _ body: (Int) throws(Failure) -> Void) throws(Failure) {
        var element = array + 1
        let end = Int(entries[array].after)
        while element < end {
            try body(element)
            element = Int(entries[element].after)
        }
    }

    /// Calls `body` with the key and value indices of each member of the object at `object`, in order,
    /// duplicates included, without collecting them.
    public func forEachMember<Failure: Error>(of object: Int, _ body: (_ key: Int, _ value: Int) throws(Failure) -> Void) throws(Failure) {
        var member = object + 1
        let end = Int(entries[object].after)
        while member < end {
            try body(member, member + 1)
            member = Int(entries[member + 1].after)
        }
    }

    /// Whether the array or object at `container` has no elements or members.
    public func isEmpty(_ container: Int) -> Bool { Int(entries[container].after) == container + 1 }

    /// The key and value indices of the members of the object at `object`, in order, duplicates included.
    public func members(of object: Int) -> [(key: Int, value: Int)] {
        var members: [(key: Int, value: Int)] = []
        var member = object + 1
        while member < Int(entries[object].after) {
            members.append((member, member + 1))
            member = Int(entries[member + 1].after)
        }
        return members
    }

    /// The value at `index` as a tree, for readers that want one (the configuration).
    public func node(_ index: Int) -> JSONNode {
        let entry = entries[index]
        switch entry.kind {
        case .null: return .null
        case .bool: return .bool(entry.flag)
        case .number: return .number(numberText(index))
        case .string: return .string(string(index))
        case .array:
            var elements: [JSONNode] = []
            var element = index + 1
            while element < Int(entry.after) {
                elements.append(node(element))
                element = Int(entries[element].after)
            }
            return .array(elements)
        case .object:
            var members: [JSONObject.Member] = []
            var member = index + 1
            while member < Int(entry.after) {
                members.append(JSONObject.Member(key: string(member), value: node(member + 1)))
                member = Int(entries[member + 1].after)
            }
            return .object(JSONObject(members: members))
        }
    }

    /// The UTF-8 of a string's text between its quotes with its escapes resolved; the reader checked every
    /// escape, including surrogate pairs.
    static func unescaped(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\") else {
                text.append(byte)
                index += 1
                continue
            }
            let escape = raw[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(raw, index)
                index += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex4(raw, index + 2) - 0xDC00)
                    index += 6
                }
                text.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
            default: text.append(escape)
            }
        }
        return text
    }

    private static func hex4(_ raw: ArraySlice<UInt8>, _ start: Int) -> UInt32 {
        var value: UInt32 = 0
        for byte in raw[start..<(start + 4)] {
            let digit: UInt8 =
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
                default: byte - UInt8(ascii: "A") + 10
                }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
