import ArgumentParser
import Foundation
import ExptCore
import GitKit
import ExptDiagnosis
import ExptGitHub

/// The documented exit codes (docs/commands.md). Every error is printed here and nowhere else.
public enum ExitStatus: Int32 {
    case ok = 0
    case failure = 1        // an operation failed (git, I/O, a job that failed when waited on)
    case invalidInput = 2   // bad argument, branch name, config
    case conflict = 3       // refused because of state: dirty worktree, merge conflict, lock held
    case notFound = 4       // no such branch, run, file
    case external = 5       // an external tool (scheduler, gh) failed or is missing
    case runsFailed = 6     // `watch`: some watched run failed
    case timedOut = 7       // `watch`/`fix-and-relaunch --wait`: time ran out first
    case usage = 64         // the command line itself is wrong (from the argument parser)
}

/// A machine-readable error, printed on stdout with --json.
struct ErrorPayload: Encodable {
    struct Body: Encodable { var kind: String; var message: String; var hint: String?; var exitCode: Int32 }
    var error: Body
}

enum ErrorReporting {
    /// Maps an error to (kind, message, hint, exit status).
    static func classify(_ error: Error) -> (kind: String, message: String, hint: String?, status: ExitStatus) {
        switch error {
        case let e as ExptError:
            let status: ExitStatus = switch e.kind {
            case .failure: .failure
            case .invalidInput: .invalidInput
            case .conflict: .conflict
            case .notFound: .notFound
            case .external: .external
            }
            return (e.kind.rawValue, e.message, e.hint, status)
        case let e as InvalidBranchName:
            return ("invalid_input", e.description, "choose a name like exp/lr-0.1", .invalidInput)
        case let e as MergeConflict:
            return ("conflict", e.description + "\nnothing was changed.", nil, .conflict)
        case let e as GitError:
            return ("git", e.description, nil, .failure)
        case let e as GitHubError:
            return classify(e.exptError)
        case let e as DiagnosisError:
            return ("invalid_input", e.message, e.hint, .invalidInput)
        default:
            return ("failure", "\(error)", nil, .failure)
        }
    }

    /// Prints the error (human on stderr; also JSON on stdout with --json) and returns the status.
    static func report(_ error: Error, json: Bool, console: Console = Console()) -> Int32 {
        let c = classify(error)
        console.err("error: " + c.message + (c.hint.map { "\nhint: \($0)" } ?? ""))
        if json, let text = try? JSONOutput.encode(ErrorPayload(error: .init(kind: c.kind, message: c.message,
                                                                                 hint: c.hint, exitCode: c.status.rawValue))) {
            console.out(text)
        }
        return c.status.rawValue
    }
}

extension Expt {
    /// Parses and runs one command line; returns the exit status. Never exits the process, so
    /// tests can call it.
    public static func run(arguments: [String]) -> Int32 {
        let json = arguments.contains("--json")
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let e as ExitCode {
            return e.rawValue
        } catch let error where error is ExptError || error is GitError || error is InvalidBranchName || error is MergeConflict
                    || error is DiagnosisError || error is GitHubError {
            return ErrorReporting.report(error, json: json)
        } catch {
            // The argument parser's own errors: help and version (exit 0), usage (exit 64).
            let code = exitCode(for: error).rawValue
            let message = fullMessage(for: error)
            if code == 0 { Console().out(message); return 0 }
            if isUsageError(error) { Console().err(message); return ExitStatus.usage.rawValue }
            return ErrorReporting.report(error, json: json)
        }
    }

    /// True for errors the argument parser raises about the command line itself.
    static func isUsageError(_ error: Error) -> Bool {
        if error is ValidationError { return true }
        return String(describing: type(of: error)).contains("CommandError") || exitCode(for: error) == .validationFailure
    }

    /// The process entry point.
    public static func main() {
        Foundation.exit(run(arguments: Array(CommandLine.arguments.dropFirst())))
    }
}
