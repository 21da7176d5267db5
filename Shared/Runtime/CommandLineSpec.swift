import Foundation
import Observability

/// What an executable accepts: its options, positional arguments and the `--help` text built from them.
///
/// Every option can come from a flag, then from its environment variable, then from its default, in that order,
/// so the same binary runs from a shell, docker compose or a Kubernetes manifest without wrappers.
public struct CommandLineSpec: Sendable {
    public let executable: String
    public let summary: String
    public let options: [OptionSpec]
    /// Usage of positional arguments for `--help`, for example `VALUE`; empty if none are taken.
    public let positionalUsage: String

    public init(executable: String, summary: String, options: [OptionSpec], positionalUsage: String = "") {
        self.executable = executable
        self.summary = summary
        self.options = options + [.flag("help", help: "Print this help and exit.")]
        self.positionalUsage = positionalUsage
    }

    /// What parsing decided: run with these options, or print help.
    public enum Outcome: Sendable {
        case run(ParsedOptions)
        case help(String)
    }

    /// Parses `arguments` (without the executable name) against `environment`.
    /// - Throws: `RuntimeError` naming the option and what to do.
    public func parse(_ arguments: [String], environment: [String: String]) throws(RuntimeError) -> Outcome {
        var values: [String: String] = [:]
        var switches: Set<String> = []
        var positionals: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                if argument == "--" {
                    positionals += arguments[index...]
                    break
                }
                positionals.append(argument)
                continue
            }
            let body = argument.dropFirst(2)
            let (name, inline) = body.firstIndex(of: "=").map { (String(body[..<$0]), String(body[body.index(after: $0)...])) }
                ?? (String(body), nil)
            guard let spec = options.first(where: { $0.name == name }) else {
                throw RuntimeError(code: .unknownOption, message: "unknown option --\(name); run \(executable) --help for the options")
            }
            if spec.isSwitch {
                switches.insert(name)
                continue
            }
            if let inline {
                values[name] = inline
            } else if index < arguments.count {
                values[name] = arguments[index]
                index += 1
            } else {
                throw RuntimeError(code: .missingValue, message: "option --\(name) needs a value: --\(name) VALUE")
            }
        }
        if switches.contains("help") { return .help(usage()) }
        for spec in options where !spec.isSwitch && values[spec.name] == nil {
            if let variable = spec.environment, let value = environment[variable] {
                values[spec.name] = value
            } else if let value = spec.defaultValue {
                values[spec.name] = value
            } else if spec.isRequired {
                let environmentHint = spec.environment.map { " or set \($0)" } ?? ""
                throw RuntimeError(code: .missingOption, message: "missing --\(spec.name)\(environmentHint): \(spec.help)")
            }
        }
        return .run(ParsedOptions(executable: executable, values: values, switches: switches, positionals: positionals))
    }

    /// The `--help` text: summary, usage, each option with its variable and default.
    public func usage() -> String {
        var lines = [summary, "", "usage: \(executable) [options]\(positionalUsage.isEmpty ? "" : " " + positionalUsage)", "", "options:"]
        for spec in options {
            let head = spec.isSwitch ? "  --\(spec.name)" : "  --\(spec.name) VALUE"
            var detail = spec.help
            if let variable = spec.environment { detail += " [env \(variable)]" }
            if let value = spec.defaultValue { detail += " (default: \(spec.isSecret ? Redaction.placeholder : value))" }
            if spec.isRequired { detail += " (required)" }
            lines.append(head.padding(toLength: max(head.count + 2, 32), withPad: " ", startingAt: 0) + detail)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
