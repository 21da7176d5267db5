import Synchronization
import Wire

/// When users reached their audiences, in arrival order: what `scripts/bench-latency` joins with the moment it
/// wrote each upstream record, to measure latency end to end by the sandbox's own clock instead of by polling.
///
/// Off unless `--arrival-journal N` gives a capacity; once full it records nothing more and counts what it
/// left out, so a long run costs bounded memory and a reader can tell the journal is incomplete.
final class ArrivalJournal: Sendable {
    /// One user that an add request added to an audience, or that grew a member there.
    struct Entry: Sendable {
        let atMilliseconds: Int64
        let api: Destination
        let audience: String
        /// The user's first identifier as the request listed it.
        let identifier: MemberSet.Identifier
    }

    private struct State {
        var entries: [Entry] = []
        var leftOut = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    var isOn: Bool { capacity > 0 }

    /// Records the users one request added, all at the moment it applied them.
    func record(_ identifiers: [MemberSet.Identifier], api: Destination, audience: String, at milliseconds: Int64) {
        guard isOn, !identifiers.isEmpty else { return }
        state.withLock { state in
            let room = max(0, capacity - state.entries.count)
            for identifier in identifiers.prefix(room) {
                state.entries.append(Entry(atMilliseconds: milliseconds, api: api, audience: audience, identifier: identifier))
            }
            state.leftOut += max(0, identifiers.count - room)
        }
    }

    /// Up to `limit` entries from position `start` on, the position to read from next, how many entries the
    /// journal holds, and how many arrivals it left out because it was full.
    func read(from start: Int, limit: Int) -> (entries: ArraySlice<Entry>, next: Int, recorded: Int, leftOut: Int) {
        state.withLock { state in
            let lower = min(max(0, start), state.entries.count)
            let upper = min(state.entries.count, lower + max(0, limit))
            return (state.entries[lower..<upper], upper, state.entries.count, state.leftOut)
        }
    }

    func reset() {
        state.withLock { $0 = State() }
    }
}
