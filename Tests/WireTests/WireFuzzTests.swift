import TestSupport
import Testing
import Wire

/// A million mutated protobuf records decoded as every message a topic carries: a record written by a
/// broken or hostile producer must be refused with a `WireError` or decoded into a value that encodes and
/// decodes back to itself, never crash or hang the stage reading it.
@Suite("Wire: fuzzed records")
struct WireFuzzTests {
    static let corpus: [[UInt8]] = [
        MemberRecord.change(WireSamples.change).serializedBytes(), MemberRecord.snapshot(WireSamples.marker).serializedBytes(),
        MemberRecord.lifecycle(WireSamples.lifecycle).serializedBytes(), HashedRecord.member(WireSamples.member).serializedBytes(),
        HashedRecord.hold(WireSamples.hold).serializedBytes(), WireSamples.batch.serializedBytes(), WireSamples.result.serializedBytes(),
        WireSamples.deadLetter.serializedBytes(), WireSamples.mapping.serializedBytes(), BatcherState.member(WireSamples.state).serializedBytes(),
        BatcherState.audience(WireSamples.audienceState).serializedBytes(), BatcherState.withdrawal(WireSamples.withdrawal).serializedBytes(),
    ]
    /// Tags of every wire type (including the deprecated groups and the invalid 6 and 7), overlong and
    /// maximal varints, and lengths that point past the end.
    static let dictionary: [[UInt8]] = [
        [0x08], [0x0A], [0x12], [0x1A], [0x22], [0x0B], [0x0C], [0x0E], [0x0F], [0x0D], [0x09], [0xF8, 0xFF, 0xFF, 0xFF, 0x0F],
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0x12, 0x80, 0x80, 0x80, 0x80, 0x10], [0x0A, 0x00], [0x12, 0x02, 0xC3, 0x28],
        [0x32, 0x20] + [UInt8](repeating: 0xAB, count: 32),
    ]

    /// Decodes `bytes` as `Message`; when that succeeds, the value must survive its own round trip.
    static func check<Message: ProtoMessage>(_ type: Message.Type, _ bytes: [UInt8]) throws -> Bool {
        let decoded: Message
        do {
            decoded = try Message(serializedBytes: bytes)
        } catch {
            return false
        }
        let again = try Message(serializedBytes: decoded.serializedBytes())
        guard again == decoded else {
            throw TestSupportError("\(Message.protoName) decoded to a value that does not survive its own round trip")
        }
        return true
    }

    @Test("1,000,000 inputs decoded as each of seven messages: refused or stable, never a crash or a hang")
    func fuzzDecoders() throws {
        var fuzzer = Fuzzer(defaultSeed: 0x77_1DE, corpus: Self.corpus, dictionary: Self.dictionary, maxLength: 2_048)
        var decoded = 0
        var refused = 0
        let count = Fuzzer.inputCount(standard: 1_000_000)
        let report = try fuzzer.run(target: "wire", count: count) { _, input in
            let results = [
                try Self.check(MemberRecord.self, input), try Self.check(HashedRecord.self, input), try Self.check(Batch.self, input),
                try Self.check(BatchResult.self, input), try Self.check(DeadLetter.self, input), try Self.check(AudienceMapping.self, input),
                try Self.check(BatcherState.self, input),
            ]
            decoded += results.filter { $0 }.count
            refused += results.filter { !$0 }.count
        }
        print("fuzz wire (seed \(fuzzer.seed)): \(report); \(decoded) decodes, \(refused) refusals")
        #expect(decoded + refused == 7 * count)
        // Both paths must be exercised, or the mutations have stopped reaching the decoders.
        #expect(decoded > count / 10 && refused > count)
    }
}
