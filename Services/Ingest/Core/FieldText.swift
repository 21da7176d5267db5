import Wire

/// The text of one upstream record's fields, escapes resolved, end to end: ingest copies each value it
/// forwards here and writes the member record straight from these bytes, so no field becomes a `String`
/// or array of its own. One per run of records, emptied (its memory kept) before each record.
struct FieldText {
    private(set) var bytes: [UInt8] = []

    /// Forgets the previous record's text, keeping the memory.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends `text` and returns where it lies.
    mutating func append(_ text: some Collection<UInt8>) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: text)
        return start..<bytes.count
    }

    /// Appends `text` (bytes of a span) and returns where it lies.
    mutating func append(span text: Span<UInt8>) -> Range<Int> {
        let start = bytes.count
        bytes.append(span: text)
        return start..<bytes.count
    }

    /// The text at `range` as a `String`, for the few fields used as one (audience and snapshot ids).
    func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// Whether the text at `range` is `word`, byte for byte; false when there is no text.
    func equals(_ range: Range<Int>?, _ word: String) -> Bool {
        guard let range else { return false }
        return bytes.span.extracting(range).elementsEqual(word.utf8.span)
    }
}
