import ArgumentParser
import Foundation
import ExptModel
import ExptCore

/// The documented exit codes (docs/commands.md), one per error kind. Every error is printed in
/// `ErrorReporting.report` and nowhere else.
public enum ExitStatus: Int32 {
    case ok = 0
    case failure = 1        // an operation failed (git, I/O, a job that failed when waited on)
    case invalidInput = 2   // bad argument, branch name, config
    case conflict = 3       // refused because of state: dirty worktree, merge conflict, lock held, --wait ran out
    case notFound = 4       // no such branch, run, file, repository
    case external = 5       // an external tool (scheduler, gh) failed, is missing or did not answer in time
    case runsFailed = 6     // `watch`: some watched run failed
    case timedOut = 7       // `watch --max-duration`: time ran out first
    case needsPerson = 8    // fix-and-relaunch: the retry budget is spent; a person must look
    case usage = 64         // the command line itself is wrong (from the argument parser)

    init(_ kind: ErrorKind) {
        switch kind {
        case .failure: self = .failure
        case .invalidInput: self = .invalidInput
        case .conflict: self = .conflict
        case .notFound: self = .notFound
        case .external: self = .external
        case .needsPerson: self = .needsPerson
        case .usage: self = .usage
        }
    }
}

/// A machine-readable error, printed on stdout with --json.
struct ErrorPayload: Encodable {
    struct Body: Encodable { var kind: ErrorKind; var message: String; var hint: String?; var exitCode: Int32 }
    var error: Body
}

/// An error of the command line itself, in the argument parser's words.
struct UsageError: UserFacingError {
    var message: String
    var hint: String? { nil }   // the parser's message already says where --help is
    var kind: ErrorKind { .usage }
}

enum ErrorReporting {
    /// Prints the error (human on stderr; also JSON on stdout with --json) and returns the status.
    static func report(_ error: UserFacingError, json: Bool, console: Console) -> Int32 {
        let status = ExitStatus(error.kind)
        console.err("error: " + error.message + (error.hint.map { "\nhint: \($0)" } ?? ""))
        if json, let text = try? JSONOutput.encode(ErrorPayload(error: .init(kind: error.kind, message: error.message,
                                                                                hint: error.hint, exitCode: status.rawValue))) {
            console.out(text)
        }
        return status.rawValue
    }
}

extension Expt {
    /// Parses and runs one command line in `env`; returns the exit status. Never exits the
    /// process, so tests call it in-process.
    public static func run(arguments: [String], in env: ExptEnvironment) -> Int32 {
        let json = arguments.contains("--json")
        do {
            var command = try parseAsRoot(arguments)
            if let c = command as? ExptCommand { try c.run(in: env) } else { try command.run() }
            return 0
        } catch let e as ExitCode {
            return e.rawValue
        } catch {
            if let e = UserFacingErrors.make(error) { return ErrorReporting.report(e, json: json, console: env.console) }
            // The argument parser's own errors: help and version (exit 0), usage (exit 64).
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success { env.console.out(message); return 0 }
            if code == .validationFailure {
                return ErrorReporting.report(UsageError(message: message.replacingOccurrences(of: "Error: ", with: "")),
                                             json: json, console: env.console)
            }
            return ErrorReporting.report(ExptError(.failure, "\(error)"), json: json, console: env.console)
        }
    }

    /// The process entry point.
    public static func main() {
        Foundation.exit(run(arguments: Array(CommandLine.arguments.dropFirst()), in: .live()))
    }
}
