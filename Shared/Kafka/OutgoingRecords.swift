/// Records to produce, written into one reusable byte buffer instead of arrays per key, value and header.
///
/// A stage appends what it derives from an input batch, then hands the whole to
/// `KafkaProducer.send(_:completion:)`, which enqueues each record from this buffer (librdkafka copies it).
/// Keys and values are written in place by closures (an encoder appends its bytes directly); a set of
/// headers is written once and shared by every record given it.
public struct OutgoingRecords: Sendable {
    struct Entry: Sendable {
        var topic: String
        var partition: Int32
        var key: Range<Int>?
        /// nil: a tombstone (null value), which deletes the key from a compacted topic.
        var value: Range<Int>?
        var headers: Range<Int>
    }

    struct Header: Sendable {
        var name: String
        var value: Range<Int>?
    }

    /// Headers written once for several records (`addHeader`, then `headerSet(from:)`).
    public struct HeaderSet: Sendable {
        let range: Range<Int>

        /// No headers.
        public static let none = HeaderSet(range: 0..<0)
    }

    /// A point to roll back to when what was appended after it must not be produced.
    public struct Mark: Sendable {
        /// Records appended before the mark.
        public let records: Int
        let bytes: Int
        let headers: Int
    }

    /// How big one record is, for size limits.
    public struct Shape: Sendable, Equatable {
        public let topic: String
        public let keyBytes: Int
        public let valueBytes: Int
        public let headerCount: Int
        /// Header names and values together.
        public let headerBytes: Int
    }

    /// A header value written once and given to the headers of many records (`addHeader(_:shared:_:)`).
    struct SharedValue: Sendable {
        var name: String
        var variant: String
        var value: Range<Int>
    }

    private(set) var bytes: [UInt8] = []
    private(set) var entries: [Entry] = []
    private(set) var headerEntries: [Header] = []
    private var sharedValues: [SharedValue] = []

    public init() {}

    /// Records appended.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Empties the buffer, keeping its memory for the next batch.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        headerEntries.removeAll(keepingCapacity: true)
        sharedValues.removeAll(keepingCapacity: true)
    }

    /// Adds a header to the set being written; `headerSet(from:)` closes the set.
    public mutating func addHeader(_ name: String, _ write: (inout [UInt8]) -> Void) {
        let start = bytes.count
        write(&bytes)
        headerEntries.append(Header(name: name, value: start..<bytes.count))
    }

    /// Adds a header whose value is the same for many records (a content type): written by `write` the first
    /// time `name` and `variant` are asked for, then shared by every later such header until `removeAll`.
    /// `variant` must name the value: the same name and variant with other bytes would send the first ones.
    public mutating func addHeader(_ name: String, shared variant: String, _ write: (inout [UInt8]) -> Void) {
        for shared in sharedValues where shared.name == name && shared.variant == variant {
            headerEntries.append(Header(name: name, value: shared.value))
            return
        }
        let start = bytes.count
        write(&bytes)
        sharedValues.append(SharedValue(name: name, variant: variant, value: start..<bytes.count))
        headerEntries.append(Header(name: name, value: start..<bytes.count))
    }

    /// Adds a header whose value is `value`'s UTF-8.
    public mutating func addHeader(_ name: String, string value: String) {
        addHeader(name) { $0.append(contentsOf: value.utf8) }
    }

    /// Where the next header goes: pass it to `headerSet(from:)` after adding a set's headers.
    public var headerPosition: Int { headerEntries.count }

    /// The headers added since `position`, as a set records can share.
    public func headerSet(from position: Int) -> HeaderSet {
        HeaderSet(range: position..<headerEntries.count)
    }

    /// Appends a record whose key and value are written in place.
    public mutating func append(
        topic: String, placement: ProducerRecord.Placement = .byKey, headers: HeaderSet = .none,
        key writeKey: (inout [UInt8]) -> Void, value writeValue: (inout [UInt8]) -> Void
    ) {
        appendEntry(topic, placement, headers, hasKey: true, writeKey, writeValue)
    }

    /// Appends a record whose value is written in place, with `key` as given (nil: no key at all).
    public mutating func append(
        topic: String, placement: ProducerRecord.Placement = .byKey, headers: HeaderSet = .none, key: [UInt8]?,
        value writeValue: (inout [UInt8]) -> Void
    ) {
        appendEntry(topic, placement, headers, hasKey: key != nil, { $0.append(contentsOf: key ?? []) }, writeValue)
    }

    /// Appends a record built the ordinary way (dead letters, tools, tests).
    public mutating func append(_ record: ProducerRecord) {
        let headerStart = headerPosition
        for header in record.headers {
            if let value = header.value {
                addHeader(header.name) { $0.append(contentsOf: value) }
            } else {
                headerEntries.append(Header(name: header.name, value: nil))
            }
        }
        append(topic: record.topic, placement: record.placement, headers: headerSet(from: headerStart), key: record.key) {
            $0.append(contentsOf: record.value)
        }
    }

    /// Appends a tombstone: `key` with a null value, which removes the key from a compacted topic.
    public mutating func appendTombstone(topic: String, placement: ProducerRecord.Placement = .byKey, key writeKey: (inout [UInt8]) -> Void) {
        let keyStart = bytes.count
        writeKey(&bytes)
        entries.append(Entry(topic: topic, partition: placement.partition, key: keyStart..<bytes.count, value: nil, headers: 0..<0))
    }

    private mutating func appendEntry(
        _ topic: String, _ placement: ProducerRecord.Placement, _ headers: HeaderSet, hasKey: Bool, _ writeKey: (inout [UInt8]) -> Void,
        _ writeValue: (inout [UInt8]) -> Void
    ) {
        let keyStart = bytes.count
        writeKey(&bytes)
        let valueStart = bytes.count
        writeValue(&bytes)
        entries.append(
            Entry(
                topic: topic, partition: placement.partition, key: hasKey ? keyStart..<valueStart : nil, value: valueStart..<bytes.count,
                headers: headers.range))
    }

    /// The current end, to roll back to.
    public var mark: Mark { Mark(records: entries.count, bytes: bytes.count, headers: headerEntries.count) }

    /// Removes everything appended after `mark`.
    public mutating func rollBack(to mark: Mark) {
        entries.removeSubrange(mark.records...)
        headerEntries.removeSubrange(mark.headers...)
        bytes.removeSubrange(mark.bytes...)
        sharedValues.removeAll { $0.value.upperBound > mark.bytes }
    }

    /// The size of the record at `index`.
    public func shape(at index: Int) -> Shape {
        let entry = entries[index]
        var headerBytes = 0
        for header in entry.headers {
            headerBytes += headerEntries[header].name.utf8.count + (headerEntries[header].value?.count ?? 0)
        }
        return Shape(
            topic: entry.topic, keyBytes: entry.key?.count ?? 0, valueBytes: entry.value?.count ?? 0, headerCount: entry.headers.count,
            headerBytes: headerBytes)
    }

    /// Whether the record at `index` is a tombstone.
    public func isTombstone(at index: Int) -> Bool { entries[index].value == nil }

    /// Copies of the records, for inspection (a tombstone's value is empty: ask `isTombstone(at:)`).
    public var records: [ProducerRecord] {
        entries.map { entry in
            ProducerRecord(
                topic: entry.topic, key: entry.key.map { Array(bytes[$0]) }, value: entry.value.map { Array(bytes[$0]) } ?? [],
                headers: headerEntries[entry.headers].map { KafkaHeader(name: $0.name, value: $0.value.map { Array(bytes[$0]) }) },
                placement: entry.partition == ProducerRecord.Placement.byKey.partition ? .byKey : .partition(entry.partition))
        }
    }
}
