/// The one vocabulary of error kinds, as agents read it in `{"error": {"kind": …}}`. Each kind
/// maps to one documented exit code (docs/commands.md); only ExptCLI does that mapping.
public enum ErrorKind: String, Codable, Sendable, CaseIterable {
    case failure                        // exit 1: an operation failed
    case invalidInput = "invalid_input" // exit 2: bad argument, name, config
    case conflict                       // exit 3: refused because of state (dirty, locked, merge conflicts)
    case notFound = "not_found"         // exit 4: no such branch, run, file, repository
    case external                       // exit 5: an external tool (scheduler, gh) failed, is missing or hung
    /// exit 8: fix-and-relaunch spent the retry budget: a person must look before anything runs again
    case needsPerson = "needs_person"
    case usage                          // exit 64: the command line itself is wrong
}

/// An error that knows its kind and speaks in the user's words: what went wrong, why, and (in
/// `hint`) what to do. Every error that reaches the CLI conforms; the CLI never reads message
/// text to decide anything.
public protocol UserFacingError: Error, CustomStringConvertible {
    var kind: ErrorKind { get }
    var message: String { get }
    var hint: String? { get }
}

extension UserFacingError {
    public var description: String { hint.map { "\(message)\nhint: \($0)" } ?? message }
}

/// The domain's general error: a kind, a message and a hint.
public struct ExptError: UserFacingError, Sendable {
    public typealias Kind = ErrorKind
    public var kind: ErrorKind
    public var message: String
    public var hint: String?

    public init(_ kind: ErrorKind, _ message: String, hint: String? = nil) {
        self.kind = kind; self.message = message; self.hint = hint
    }
}

/// Why an external command did not produce a result. A non-zero exit is not one of these: it is
/// data in `ProcessResult`, for the adapter to judge.
public enum ProcessError: UserFacingError, Sendable, Equatable {
    /// The program is not on PATH.
    case toolMissing(tool: String)
    /// The program exists but could not be started (permissions, a missing working directory).
    case couldNotStart(tool: String, reason: String, cwd: String?)
    /// It ran past its deadline and was killed (TERM, then KILL).
    case timedOut(argv: [String], seconds: Double)

    public var kind: ErrorKind { .external }

    public var message: String {
        switch self {
        case .toolMissing(let tool): return "\(tool) is not installed or not on PATH"
        case .couldNotStart(let tool, let reason, _): return "could not start \(tool): \(reason)"
        case .timedOut(let argv, let seconds):
            let shown = ShellQuote.join(argv)
            return "`\(shown.count > 200 ? String(shown.prefix(200)) + "…" : shown)` did not finish within \(Units.duration(Int(seconds.rounded(.up)))) and was stopped"
        }
    }

    public var hint: String? {
        switch self {
        case .toolMissing(let tool):
            return "install \(tool), or add its directory to PATH (or configure an exec_prefix that reaches a host where it is)"
        case .couldNotStart(_, _, let cwd): return cwd.map { "check that the directory \($0) exists" }
        case .timedOut:
            return "the host or the tool may be hung (an ssh waiting on a network, a scheduler under load); "
                + "raise the deadline with EXPT_COMMAND_TIMEOUT=<seconds> if it is only slow"
        }
    }
}
