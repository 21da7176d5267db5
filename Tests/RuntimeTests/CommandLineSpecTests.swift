import Runtime
import Testing

@Suite("Command-line options: flag, then environment, then default")
struct CommandLineSpecTests {
    let spec = CommandLineSpec(
        executable: "cohortsync-test", summary: "A test executable.",
        options: [
            OptionSpec("port", environment: "TEST_PORT", default: "8089", help: "Port."),
            OptionSpec("token", environment: "TEST_TOKEN", default: "sandbox-secret", help: "Token.", isSecret: true),
            OptionSpec("group", environment: "TEST_GROUP", help: "Group.", isRequired: true),
            .flag("print-config", help: "Print the configuration."),
        ])

    private func run(_ arguments: [String], _ environment: [String: String] = ["TEST_GROUP": "g"]) throws -> ParsedOptions {
        guard case .run(let options) = try spec.parse(arguments, environment: environment) else {
            Issue.record("expected options, got help")
            throw RuntimeError(code: .invalidValue, message: "help")
        }
        return options
    }

    @Test("a flag wins over the environment, which wins over the default")
    func precedence() throws {
        #expect(try run([]).string("port") == "8089")
        #expect(try run([], ["TEST_PORT": "1", "TEST_GROUP": "g"]).string("port") == "1")
        #expect(try run(["--port", "2"], ["TEST_PORT": "1", "TEST_GROUP": "g"]).string("port") == "2")
        #expect(try run(["--port=3"]).integer("port") == 3)
    }

    @Test("switches and positional arguments")
    func switchesAndPositionals() throws {
        let options = try run(["--print-config", "value", "--", "--not-a-flag"])
        #expect(options.isSet("print-config"))
        #expect(options.positionals == ["value", "--not-a-flag"])
    }

    @Test("--help prints every option with its variable and default, never a secret's default")
    func help() throws {
        guard case .help(let text) = try spec.parse(["--help"], environment: [:]) else {
            Issue.record("expected help")
            return
        }
        #expect(text.contains("--port VALUE"))
        #expect(text.contains("[env TEST_PORT]"))
        #expect(text.contains("(default: 8089)"))
        #expect(text.contains("(required)"))
        #expect(!text.contains("sandbox-secret"))
    }

    @Test("errors name the option and the fix", arguments: [
        (["--nope"], RuntimeError.Code.unknownOption, "--nope"),
        (["--port"], .missingValue, "--port VALUE"),
    ])
    func errors(arguments: [String], code: RuntimeError.Code, fragment: String) {
        let error = #expect(throws: RuntimeError.self) { _ = try spec.parse(arguments, environment: ["TEST_GROUP": "g"]) }
        #expect(error?.code == code)
        #expect(error?.message.contains(fragment) == true)
    }

    @Test("a missing required option names its flag and variable")
    func missingRequired() {
        let error = #expect(throws: RuntimeError.self) { _ = try spec.parse([], environment: [:]) }
        #expect(error?.code == .missingOption)
        #expect(error?.message.contains("--group or set TEST_GROUP") == true)
    }

    @Test("typed accessors refuse values of the wrong kind")
    func typedValues() throws {
        let options = try run(["--port", "eighty"])
        #expect(throws: RuntimeError.self) { _ = try options.integer("port") }
        #expect(throws: RuntimeError.self) { _ = try options.integer("group", in: 0...10) }
    }
}
