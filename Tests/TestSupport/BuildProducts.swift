import Foundation

/// Finds executables built alongside the test bundle, so tests can start the real programs.
public enum BuildProducts {
    /// The build products directory (`.build/<triple>/debug`): where the test binary itself lives.
    public static var directory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // `swift test` runs `<products>/CohortSyncPackageTests.xctest` (a file on Linux, a bundle on macOS).
        while url.pathComponents.count > 1, !url.lastPathComponent.hasSuffix(".xctest") {
            url.deleteLastPathComponent()
        }
        if url.lastPathComponent.hasSuffix(".xctest") { return url.deletingLastPathComponent() }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
    }

    /// The built executable `name`.
    /// - Throws: `TestSupportError` naming the path and the build command when it is missing.
    public static func executable(_ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw TestSupportError("executable \(url.path) is missing; build everything first with `swift build --build-tests`")
        }
        return url
    }
}

/// A failed precondition of a test's environment, said plainly.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
