@testable import IngestCore
import Kafka
import TestSupport
import Testing

/// The scanner against the general path over mutated records: a fuzz suite, run with the others (`make test`
/// runs them apart from the rest, so their minutes of CPU do not starve the timing-sensitive tests).
@Suite("Ingest: the one-pass scanner fuzzed against the general path")
struct NativeScannerFuzzTests {
    @Test("200,000 mutated records: the scanner and the general path always agree, and the scanner reads many of them")
    func differential() throws {
        var fuzzer = Fuzzer(
            defaultSeed: 0x5CA_77E2, corpus: IngestFuzzTests.corpus.map { Array($0.utf8) },
            dictionary: IngestFuzzTests.dictionary.map { Array($0.utf8) })
        let count = Fuzzer.inputCount(standard: 200_000)
        var scanned = 0
        let report = try fuzzer.run(target: "native-scanner", count: count) { index, input in
            let record = ConsumerRecord(topic: "cdp.fuzz", partition: 0, offset: Int64(index), key: nil, value: input)
            var text = FieldText()
            if NativeRecordScanner.fields(of: input, text: &text) != nil { scanned += 1 }
            let fast = UpstreamParser.parse(record)
            let general = UpstreamParser.parseInGeneral(record)
            guard fast == general else {
                throw TestSupportError("the scanner's path answered \(fast), the general path \(general)")
            }
        }
        print("fuzz native scanner (seed \(fuzzer.seed)): \(report); read in one pass \(scanned)")
        // The comparison means something only if the scanner reads a good share of the inputs (most mutations
        // break the JSON or add what it leaves to the general path: about 5 % remain).
        #expect(scanned > count / 50)
    }
}
