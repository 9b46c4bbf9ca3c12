import Foundation
import ExptModel

/// A failed `osmo` call, classified. The CLI prints its errors on STDOUT (src/cli/cli.py
/// `main`): `{"message": …, "code": N}` with `--format-type json`, else `Error message: …` /
/// `Error code: N` (N is the HTTP status, or 1). Its exit status says the class:
/// 1 `OSMOSubmissionError` (a submission the service rejected: validation, Jinja, resources;
/// also an argparse `ArgumentError`), 2 any other `OSMOError` or an unexpected exception
/// (argparse usage errors too, on stderr), 3 interrupted, 10 `OSMOServerError`, connection
/// errors, undecodable JSON, 75 HTTP 429.
public struct OSMOCLIFailure: Error, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case rejected, error, interrupted, unreachable, rateLimited = "rate_limited", notInstalled = "not_installed", other
    }
    public var kind: Kind
    public var status: Int32
    /// OSMO's message (multi-line for a validation error), or stderr when stdout had none.
    public var message: String
    /// The `code` OSMO printed: the HTTP status, or 1.
    public var code: Int?
    public var command: String

    /// `Must login first with "login" command` (src/lib/utils/client.py `LoginManager`).
    public var notLoggedIn: Bool { message.contains("Must login first") }
    /// `Pool X not found.` (submit, restart: postgres.py `Pool.fetch_from_db`) or `Pool X does
    /// not exist!` (resource list): the pool's name.
    public var unknownPool: String? {
        for (start, end) in [("Pool ", " not found"), ("Pool ", " does not exist")] {
            guard let s = message.range(of: start), let e = message.range(of: end, range: s.upperBound..<message.endIndex)
            else { continue }
            let name = message[s.upperBound..<e.lowerBound]
            if !name.isEmpty, !name.contains(" "), !name.contains("\n") { return String(name) }
        }
        return nil
    }
    /// `Workflow X is not found.`, `Task T of workflow X is not found.` (OSMODatabaseError).
    public var notFound: Bool { message.contains(" is not found.") }
    /// Worth retrying as is, later (with back-off for a rate limit).
    public var retryable: Bool { kind == .rateLimited || kind == .unreachable }

    /// The failure as expt reports it.
    public var exptError: ExptError {
        let cmd = "`\(command)`"
        let shown = message.isEmpty ? "(no message)" : message
        if kind == .notInstalled {
            return ExptError(.external, "osmo is not installed or not on PATH where \(cmd) ran",
                             hint: "install the OSMO CLI (docs/user_guide/getting_started/install: `curl -fsSL <install_url> | bash`), or set [osmo] exec_prefix to reach a host that has it")
        }
        if notLoggedIn {
            return ExptError(.external, "osmo is not logged in (\(cmd)): \(shown)",
                             hint: "run `osmo login <your OSMO service URL>` once on the machine that runs osmo")
        }
        if let pool = unknownPool {
            return ExptError(.invalidInput, "OSMO has no pool '\(pool)' you can use (\(cmd)): \(shown)",
                             hint: "see `osmo pool list`; fix [osmo] pool, or remove it and let expt choose")
        }
        switch kind {
        case .rejected:
            return ExptError(.invalidInput, "OSMO rejected the workflow (\(cmd)):\n\(shown)",
                             hint: "fix the workflow file or its --set values; `osmo workflow validate FILE --pool P` checks it without submitting")
        case .rateLimited:
            return ExptError(.external, "OSMO is rate limiting requests (\(cmd), HTTP 429): \(shown)",
                             hint: "expt already retried after each wait of [osmo] rate_limit_backoff (2, 5 and 10 s by default); try again later, or poll less often")
        case .unreachable:
            return ExptError(.external, "the OSMO service cannot be reached or failed (\(cmd)): \(shown)",
                             hint: "check the network or VPN and the service URL you logged in to; retry later")
        case .interrupted:
            return ExptError(.external, "\(cmd) was interrupted")
        default:
            if notFound { return ExptError(.notFound, "OSMO found nothing (\(cmd)): \(shown)") }
            return ExptError(.external, "\(cmd) failed (exit \(status)): \(shown)")
        }
    }
}

/// Running osmo: failures in words that say what to do, and what its other outputs mean.
public enum OSMOCLI {
    /// The classified failure of a finished call; nil when it exited 0.
    public static func failure(_ r: ProcessResult, _ argv: [String]) -> OSMOCLIFailure? {
        guard r.status != 0 else { return nil }
        let kind: OSMOCLIFailure.Kind
        switch r.status {
        case 1: kind = .rejected
        case 2: kind = .error
        case 3: kind = .interrupted
        case 10: kind = .unreachable
        case 75: kind = .rateLimited
        case 127: kind = .notInstalled
        default: kind = .other
        }
        let parsed = message(r.stdout)
        let stderr = r.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
        let stdout = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return OSMOCLIFailure(kind: kind, status: r.status,
                              message: parsed?.message ?? (stdout.isEmpty ? stderr : String(stdout.suffix(2000))),
                              code: parsed?.code, command: ShellQuote.join(argv))
    }

    /// `r` when it exited 0; else the failure as an `ExptError`.
    public static func check(_ r: ProcessResult, _ argv: [String]) throws -> ProcessResult {
        guard let f = failure(r, argv) else { return r }
        throw f.exptError
    }

    /// OSMO's error printout: `{"message": …, "code": N}` (after any other lines), or
    /// `Error message: …` up to the last `Error code: N`.
    public static func message(_ stdout: String) -> (message: String, code: Int?)? {
        if let brace = stdout.firstIndex(of: "{"),
           let obj = try? JSONSerialization.jsonObject(with: Data(stdout[brace...].utf8)) as? [String: Any],
           let m = obj["message"] as? String {
            let code = (obj["code"] as? Int) ?? (obj["code"] as? NSNumber)?.intValue
            return (m.trimmingCharacters(in: .whitespacesAndNewlines), code)
        }
        guard let start = stdout.range(of: "Error message: ") ?? stdout.range(of: "Error message:") else { return nil }
        var body = stdout[start.upperBound...]
        var code: Int?
        if let c = body.range(of: "Error code:", options: .backwards) {
            code = Int(body[c.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines))
            body = body[..<c.lowerBound]
        }
        return (body.trimmingCharacters(in: .whitespacesAndNewlines), code)
    }

    public enum CancelOutcome: Sendable, Equatable {
        case requested
        /// `Workflow X is already finished.`: nothing left to cancel.
        case alreadyFinished
        case failed(String)
    }

    /// `osmo workflow cancel ID --format-type json` exits 0 even when it fails: it prints
    /// `Workflow cancelation failed for workflow ID: <why>` (src/cli/workflow.py `_cancel_workflow`).
    public static func cancelOutcome(_ r: ProcessResult, workflowID: String) -> CancelOutcome {
        if let line = r.stdout.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("Workflow cancelation failed") }) {
            return line.contains("is already finished") ? .alreadyFinished : .failed(String(line))
        }
        if r.status != 0 { return .failed(message(r.stdout)?.message ?? r.stderrTail) }
        return r.stdout.contains("\"\(workflowID)\"") || r.stdout.contains("Cancel job for workflow") ? .requested
            : .failed("unexpected output: " + String(r.stdout.prefix(200)))
    }

    /// The log text of `osmo workflow logs …` / `events …`: without the CLI's header line
    /// (`Workflow ID has logs:`) and the notice it prints when the stream broke off (then
    /// `truncated`). Lines look like `2026/05/09 09:14:11 [train retry-1] text`
    /// (src/utils/connectors/redis.py `redis_log_formatter`; `[train][osmo]` for OSMO's own).
    public static func logText(_ stdout: String) -> (text: String, truncated: Bool) {
        var text = Substring(stdout)
        if let nl = text.firstIndex(of: "\n"), text[..<nl].hasPrefix("Workflow "),
           text[..<nl].hasSuffix(" has logs:") || text[..<nl].hasSuffix(" has error logs:") || text[..<nl].hasSuffix(" has events:") {
            text = text[text.index(after: nl)...]
        }
        let notices = ["\nLog stream has timed out or failed. Please run the command again to continue viewing logs.",
                       "\nEvent stream has timed out or failed. Please run the command again to continue viewing events."]
        for n in notices {
            if let r = text.range(of: n, options: .backwards) {
                let kept = text[..<r.lowerBound].trimmingCharacters(in: .newlines)
                return (kept.isEmpty ? "" : kept + "\n", true)
            }
        }
        return (String(text), false)
    }
}

/// Retries a call OSMO rate-limited (exit 75, HTTP 429) after each wait of `delays`, then
/// returns the last answer: the service said "later", and a poll or a submission that waits a
/// few seconds beats one that fails. Other failures return at once. A rate-limited submission
/// created nothing, so submitting it again is safe.
struct RateLimitRetryingRunner: ProcessRunner {
    let base: ProcessRunner
    let delays: [TimeInterval]
    let sleep: @Sendable (TimeInterval) -> Void

    init(_ base: ProcessRunner, delays: [TimeInterval],
         sleep: @escaping @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.base = base; self.delays = delays; self.sleep = sleep
    }

    func run(_ argv: [String], stdin: Data?, environment: [String: String]?, cwd: String?) throws -> ProcessResult {
        var result = try base.run(argv, stdin: stdin, environment: environment, cwd: cwd)
        for delay in delays where result.status == 75 {
            sleep(delay)
            result = try base.run(argv, stdin: stdin, environment: environment, cwd: cwd)
        }
        return result
    }
}
