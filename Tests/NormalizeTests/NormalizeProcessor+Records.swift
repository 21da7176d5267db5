import Identity
import Kafka
@testable import NormalizeCore
import Stage
import Wire

extension NormalizeProcessor {
    /// What one input yields, as records to inspect.
    func process(_ record: ConsumerRecord) -> (records: [ProducerRecord], outcome: Outcome, identifierRefusals: [String]) {
        var out = OutgoingRecords()
        var workspace = NormalizeWorkspace()
        let (outcome, refusals) = process(record, into: &out, workspace: &workspace)
        return (out.records, outcome, refusals.map(\.rawValue))
    }
}

extension MemberNormalizer {
    /// One hashed member as written, and whether it went to the input's own partition index.
    struct Derived: Equatable {
        let member: HashedMember
        let sameAudience: Bool
    }

    /// What normalizing one change yields, decoded back from the records written.
    struct Normalized {
        var derived: [Derived]
        var identifierRefusals: [IdentityRefusal]
        var refusal: String?
    }

    /// The partition index the input is read from in these tests.
    static let inputPartition: Int32 = 7

    /// Normalizes `change` as the stage reads it (encoded, then viewed in place) and decodes what it wrote.
    func normalize(_ change: MemberChange) throws -> Normalized {
        var reader = ProtoReader(change.serializedBytes(), context: MemberChange.protoName)
        let view = try MemberChangeView(from: &reader)
        var out = OutgoingRecords()
        var workspace = NormalizeWorkspace()
        let outcome = append(view, headers: .none, sameSpot: .partition(Self.inputPartition), into: &out, workspace: &workspace)
        let derived = try out.records.map { record in
            guard case .member(let member) = try HashedRecord(serializedBytes: record.value) else {
                throw WireError(code: .missingBody, message: "normalize wrote a record that is not a member")
            }
            return Derived(member: member, sameAudience: record.placement == .partition(Self.inputPartition))
        }
        return Normalized(derived: derived, identifierRefusals: outcome.identifierRefusals, refusal: outcome.refusal)
    }
}
