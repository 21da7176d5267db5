import Kafka
import Wire

extension RecordHeaders {
    /// The standard headers as Kafka headers, for a record of type `M` derived from `trace` (tools and tests;
    /// stages write them with `OutgoingRecords.standardHeaders`).
    public static func kafkaHeaders<M: ProtoMessage>(for type: M.Type, trace: SourcePosition) -> [KafkaHeader] {
        RecordHeaders(for: type, trace: trace).pairs.map { KafkaHeader(name: $0.name, string: $0.value) }
    }
}

extension OutgoingRecords {
    /// Writes the standard headers (DESIGN "Wire formats") for records of type `M` derived from `trace`,
    /// once for all the records of one input.
    public mutating func standardHeaders<M: ProtoMessage>(for type: M.Type, trace: SourcePosition) -> HeaderSet {
        standardHeaders(for: type) { RecordHeaders.writeTrace(trace, to: &$0) }
    }

    /// As `standardHeaders(for:trace:)`, with the trace copied as it was read from the input's own header.
    public mutating func standardHeaders<M: ProtoMessage>(for type: M.Type, traceValue: [UInt8]) -> HeaderSet {
        standardHeaders(for: type) { $0.append(contentsOf: traceValue) }
    }

    private mutating func standardHeaders<M: ProtoMessage>(for type: M.Type, writeTrace: (inout [UInt8]) -> Void) -> HeaderSet {
        let start = headerPosition
        addHeader(RecordHeaders.contentTypeName, shared: M.protoName) { RecordHeaders.writeContentType(of: M.self, to: &$0) }
        addHeader(RecordHeaders.schemaName, shared: RecordHeaders.schemaVersion) { $0.append(contentsOf: RecordHeaders.schemaVersion.utf8) }
        addHeader(RecordHeaders.traceName, writeTrace)
        return headerSet(from: start)
    }

    /// Appends `message`, encoded in place, keyed by `audienceID/userKey` written in place too.
    public mutating func append<M: ProtoMessage>(
        _ message: M, topic: String, placement: ProducerRecord.Placement, headers: HeaderSet, audienceID: String, userKey: String
    ) {
        append(topic: topic, placement: placement, headers: headers) { key in
            key.append(contentsOf: audienceID.utf8)
            key.append(UInt8(ascii: "/"))
            key.append(contentsOf: userKey.utf8)
        } value: { message.serialize(appendingTo: &$0) }
    }

    /// Appends `message`, encoded in place, with `key` as given (nil: no key).
    public mutating func append<M: ProtoMessage>(
        _ message: M, topic: String, placement: ProducerRecord.Placement, headers: HeaderSet, key: [UInt8]?
    ) {
        append(topic: topic, placement: placement, headers: headers, key: key) { message.serialize(appendingTo: &$0) }
    }

    /// Appends a dead letter for `cohortsync.dlq.v1`, keyed by its source topic and partition so the
    /// letters of one input partition stay in order.
    public mutating func append(_ letter: DeadLetter) {
        let headers = standardHeaders(for: DeadLetter.self, trace: letter.source)
        append(letter, topic: TopicNames.deadLetters, placement: .byKey, headers: headers, key: Array("\(letter.source.topic)/\(letter.source.partition)".utf8))
    }
}
