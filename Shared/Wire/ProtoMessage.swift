/// A message of `cohortsync.proto` with its hand-written codec.
public protocol ProtoMessage: Sendable, Equatable {
    /// The fully qualified protobuf name, for the `content-type` header: `cohortsync.v1.HashedRecord`.
    static var protoName: String { get }
    /// Reads the message's fields until the reader's end, skipping unknown ones.
    init(from reader: inout ProtoReader) throws(WireError)
    /// Writes the message's fields.
    func encode(to writer: inout ProtoWriter)
}

extension ProtoMessage {
    /// The message in protobuf binary form.
    public func serializedBytes() -> [UInt8] {
        var writer = ProtoWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// Appends the message in protobuf binary form to `buffer`, reusing its memory: a stage encodes every
    /// output of a batch into one buffer this way.
    public func serialize(appendingTo buffer: inout [UInt8]) {
        var writer = ProtoWriter(taking: &buffer)
        encode(to: &writer)
        writer.give(to: &buffer)
    }

    /// Decodes protobuf binary form.
    /// - Throws: `WireError` naming the field that failed.
    public init(serializedBytes bytes: [UInt8]) throws(WireError) {
        var reader = ProtoReader(bytes, context: Self.protoName)
        try self.init(from: &reader)
    }
}

/// An enum of `cohortsync.proto`: proto3 enums are open, so unknown numbers read as `unspecified`.
public protocol ProtoEnum: RawRepresentable, Sendable, Hashable, CaseIterable where RawValue == Int32 {
    static var unspecified: Self { get }
}
