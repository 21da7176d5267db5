/// Which credentials of a configuration cannot be read now: unset or empty variables, missing files.
///
/// A stage that calls a destination (the uploaders) refuses to start without them; the others only warn,
/// since they never read a credential and a missing one is the uploaders' problem to report.
public enum CredentialCheck {
    /// One error per unavailable credential, at its JSON path, in the configuration's order.
    public static func unavailable(in config: CohortSyncConfig, environment: [String: String]) -> [ConfigError] {
        var errors: [ConfigError] = []
        for (index, connection) in config.connections.enumerated() {
            for (name, reference) in connection.credentials.sorted(by: { $0.key < $1.key }) {
                do {
                    _ = try reference.resolve(environment: environment, path: "$.connections[\(index)].credentials.\(name)")
                } catch {
                    errors.append(error)
                }
            }
        }
        return errors
    }
}
