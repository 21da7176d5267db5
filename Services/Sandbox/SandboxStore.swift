import Foundation
import Synchronization
import Wire

/// Every audience the sandbox holds, for both APIs, kept apart by account (X) or advertiser (TikTok).
///
/// One lock guards the whole store: requests of one audience apply atomically and in arrival order, which is
/// what lets concurrent clients leave exactly the expected sets.
final class SandboxStore: Sendable {
    struct Audience: Sendable {
        let api: Destination
        let account: String
        let id: String
        var name: String
        var description: String
        var members = MemberSet()
        let createdAtMilliseconds: Int64
    }

    private struct State {
        var audiences: [String: Audience] = [:]
        var nextID = 1
    }

    private let state = Mutex(State())
    /// When users arrived, for latency measurements; off unless given a capacity.
    let arrivals: ArrivalJournal

    init(arrivalCapacity: Int = 0) {
        arrivals = ArrivalJournal(capacity: arrivalCapacity)
    }

    private static func storeKey(_ api: Destination, _ account: String, _ id: String) -> String {
        "\(api.name)/\(account)/\(id)"
    }

    /// Creates an audience; nil when an X account already has one of that name. X names are unique per
    /// account; TikTok creates another audience under a name that exists, so a client that creates twice
    /// gets a duplicate here as it would there (exactly-once creation must rest on the client's own mapping).
    func create(api: Destination, account: String, name: String, description: String) -> Audience? {
        state.withLock { state in
            let taken = api == .x && state.audiences.values.contains { $0.api == api && $0.account == account && $0.name == name }
            guard !taken else { return nil }
            let prefix = api == .x ? "xa" : "7"
            let id = prefix + String(state.nextID, radix: api == .x ? 36 : 10) + (api == .x ? "" : "000")
            state.nextID += 1
            let audience = Audience(
                api: api, account: account, id: id, name: name, description: description,
                createdAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            state.audiences[Self.storeKey(api, account, id)] = audience
            return audience
        }
    }

    func audience(api: Destination, account: String, id: String) -> Audience? {
        state.withLock { $0.audiences[Self.storeKey(api, account, id)] }
    }

    func audiences(api: Destination, account: String) -> [Audience] {
        state.withLock { state in state.audiences.values.filter { $0.api == api && $0.account == account } }
            .sorted { $0.createdAtMilliseconds == $1.createdAtMilliseconds ? $0.id < $1.id : $0.createdAtMilliseconds < $1.createdAtMilliseconds }
    }

    /// Removes an audience; false if it did not exist.
    func delete(api: Destination, account: String, id: String) -> Bool {
        state.withLock { $0.audiences.removeValue(forKey: Self.storeKey(api, account, id)) != nil }
    }

    /// Applies `change` to an audience's members under the store's lock; false if the audience does not exist.
    func updateMembers(api: Destination, account: String, id: String, _ change: (inout MemberSet) -> Void) -> Bool {
        state.withLock { state in
            let key = Self.storeKey(api, account, id)
            guard state.audiences[key] != nil else { return false }
            // Mutate in place: copying the audience out would copy every member on each request.
            change(&state.audiences[key]!.members)
            return true
        }
    }

    /// Every audience, ordered by API, account and id, for `GET /_sandbox/audiences`.
    var all: [Audience] {
        state.withLock { Array($0.audiences.values) }
            .sorted { ($0.api.name, $0.account, $0.id) < ($1.api.name, $1.account, $1.id) }
    }

    func reset() {
        state.withLock { $0 = State() }
        arrivals.reset()
    }
}
