import Foundation

/// Parses the process's own arguments and environment, printing help or a clear error and exiting as needed.
///
/// `main.swift` files start with this so every executable answers `--help` (exit 0) and a bad flag
/// (a message on stderr, exit 64, `EX_USAGE`) the same way.
public enum CommandLineEntry {
    public static func parse(_ spec: CommandLineSpec) -> ParsedOptions {
        do {
            switch try spec.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment) {
            case .help(let text):
                FileHandle.standardOutput.write(Data(text.utf8))
                exit(0)
            case .run(let options):
                return options
            }
        } catch {
            FileHandle.standardError.write(Data("\(spec.executable): \(error.message)\n".utf8))
            exit(64)
        }
    }

    /// Prints `error` for a human and exits with `status`.
    public static func fail(_ executable: String, _ message: String, status: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("\(executable): \(message)\n".utf8))
        exit(status)
    }
}
