import Foundation

/// Sets up the strict fake `osmo` (Tests/EndToEndTests/Fixtures/fake-osmo) for one test: a temp
/// directory with the fake's state, its call log, and `bin/osmo` linked to the script. Write a
/// `Scenario`, put `environment` into the runs (e.g. `ExptBinary.environment`), then read back
/// what osmo was asked to do.
///
/// The fake exits 99 for any call it does not answer (see fake-osmo's header for the list), so
/// assert `unexpectedCalls().isEmpty` at the end of every test that uses it.
public final class FakeOSMO {
    /// How the service fails (OSMO's own error texts and exit codes).
    public enum Mode: String, Sendable {
        case ok
        /// `Must login first with "login" command` (exit 2).
        case notLoggedIn = "not-logged-in"
        /// `Cannot connect to OSMO service, with error: …` (exit 10).
        case unreachable
        /// HTTP 429 (exit 75).
        case rateLimited = "rate-limited"
        /// HTTP 500 (exit 10).
        case serverError = "server-error"
    }

    /// Which OSMO CLI it behaves like: 6.3.1 (the latest release: a repeated `--set` keeps only
    /// the last, `restart` without `--pool` uses the default pool, no `--label`) or a later build.
    public enum CLIVersion: String, Sendable { case v6_3_1 = "6.3.1", head }

    /// How OSMO refuses a submission.
    public struct Reject: Sendable {
        /// usage | resource | credential (exit 1, `Workflow NAME submit failed:\n…`) or user (exit 2).
        public var kind: String
        /// The service's message, e.g. a pydantic validation error.
        public var message: String
        public init(kind: String = "usage", message: String) { self.kind = kind; self.message = message }
    }

    /// The logs, events and states of one workflow (also of the one `restart` creates).
    public struct Script: Sendable {
        /// Successive `osmo workflow query --verbose` objects (JSON text, partial ones are fine):
        /// each `list` shows the current one and steps on; the last one sticks.
        public var states: [String]
        /// The states after `osmo workflow cancel`; nil: the fake cancels what is unfinished.
        public var afterCancel: [String]?
        /// Log text per task (every retry), or per task and retry; lines without OSMO's
        /// `YYYY/MM/DD HH:MM:SS [task]` prefix get one.
        public var logs: [String: String]
        public var retryLogs: [String: [Int: String]]
        public var errorLogs: [String: String]
        /// `osmo workflow events` lines per task, printed as given.
        public var events: [String: String]

        public init(states: [String], afterCancel: [String]? = nil, logs: [String: String] = [:],
                    retryLogs: [String: [Int: String]] = [:], errorLogs: [String: String] = [:], events: [String: String] = [:]) {
            self.states = states; self.afterCancel = afterCancel; self.logs = logs; self.retryLogs = retryLogs
            self.errorLogs = errorLogs; self.events = events
        }
    }

    /// One scripted submission: its script, or a refusal, and what `restart` of it creates.
    public struct Workflow: Sendable {
        public var script: Script
        public var reject: Reject?
        public var restart: Script?
        public init(_ script: Script, reject: Reject? = nil, restart: Script? = nil) {
            self.script = script; self.reject = reject; self.restart = restart
        }
        /// A submission OSMO refuses.
        public static func rejected(_ reject: Reject) -> Workflow { Workflow(Script(states: ["{}"]), reject: reject) }
    }

    /// What the service looks like (scenario.json).
    public struct Scenario: Sendable {
        public var mode: Mode = .ok
        /// Modes applied to the next calls, one per call, before `mode` (e.g. one rate limit).
        public var failNext: [Mode] = []
        public var cliVersion: CLIVersion = .v6_3_1
        public var user = "researcher@example.com"
        public var defaultPool: String?
        /// `osmo pool list --format-type json` (JSON text); its pools are the ones that exist.
        /// nil: any pool exists and `pool list` is an unexpected call.
        public var pools: String?
        /// `osmo resource list --format-type json` (JSON text).
        public var resources: String?
        /// Taken in order by `osmo workflow submit`.
        public var submissions: [Workflow] = []
        /// Taken in order by `restart` of a workflow without a `restart` of its own.
        public var restarts: [Script] = []
        /// Already on the service; each first state carries its `name` (`old-run-3`).
        public var workflows: [Script] = []
        /// Which reads step a workflow on: "list" (default), "query".
        public var advanceOn: [String] = ["list"]

        public init(mode: Mode = .ok, pools: String? = nil, resources: String? = nil, submissions: [Workflow] = []) {
            self.mode = mode; self.pools = pools; self.resources = resources; self.submissions = submissions
        }
    }

    /// One recorded call.
    public struct Call: Equatable, Sendable {
        public var argv: [String]
        public var exit: Int
        public var unexpected: Bool
        /// What the fake noticed, e.g. "repeated --set: osmo 6.3.1 keeps only the last (…)".
        public var note: String?
        /// Workflow files submit read (as named on the command line) and their content.
        public var files: [String: String]
    }

    /// A workflow as the fake holds it (workflows.json), in submission order.
    public struct Record: Equatable, Sendable {
        public var id: String
        public var pool: String?
        /// The workflow `restart` made this one from.
        public var parent: String?
        public var cancelled: Bool
        public var cancelMessage: String?
        /// The submission's `--set` and `--set-string` words (`memory=96Gi`), file and priority.
        public var set: [String]
        public var setString: [String]
        public var file: String?
        public var priority: String?
        /// Reads that stepped it so far.
        public var step: Int
    }

    public let root: String
    public let stateDir: String
    public let binDir: String
    public let script: String

    public init() throws {
        script = try Self.locateScript()
        let fm = FileManager.default
        root = fm.temporaryDirectory.appendingPathComponent("fake-osmo-\(UUID().uuidString.prefix(8))").path
        stateDir = root + "/state"
        binDir = root + "/bin"
        try fm.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: binDir, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: binDir + "/osmo", withDestinationPath: script)
        _ = fm.createFile(atPath: stateDir + "/calls.jsonl", contents: nil)
        try setScenario(Scenario())
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// PATH with the fake first, and the state directory.
    public var environment: [String: String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return ["PATH": binDir + ":" + path, "EXPT_FAKE_OSMO_STATE": stateDir]
    }

    /// `environment` without osmo on PATH (the fake is removed from `bin` for the rest of the test).
    public func environmentWithoutOSMO() throws -> [String: String] {
        try? FileManager.default.removeItem(atPath: binDir + "/osmo")
        return environment
    }

    /// Writes scenario.json (and forgets the fake's own record, so it starts over from it).
    public func setScenario(_ scenario: Scenario) throws {
        func parsed(_ text: String, _ what: String) throws -> Any {
            do { return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
            catch { throw Failure(description: "FakeOSMO: \(what) is not JSON: \(error)") }
        }
        func scripted(_ s: Script) throws -> [String: Any] {
            var logs: [String: Any] = s.logs
            for (task, byRetry) in s.retryLogs {
                logs[task] = Dictionary(uniqueKeysWithValues: byRetry.map { (String($0.key), $0.value) })
            }
            var m: [String: Any] = ["states": try s.states.enumerated().map { try parsed($1, "state \($0)") },
                                    "logs": logs, "error_logs": s.errorLogs, "events": s.events]
            if let after = s.afterCancel { m["after_cancel"] = try after.map { try parsed($0, "after_cancel state") } }
            return m
        }
        var obj: [String: Any] = [
            "mode": scenario.mode.rawValue, "fail_next": scenario.failNext.map(\.rawValue),
            "cli_version": scenario.cliVersion.rawValue, "user": scenario.user, "advance_on": scenario.advanceOn,
            "submissions": try scenario.submissions.map { w -> [String: Any] in
                var m = try scripted(w.script)
                if let r = w.reject { m["reject"] = ["kind": r.kind, "message": r.message] }
                if let r = w.restart { m["restart"] = try scripted(r) }
                return m
            },
            "restarts": try scenario.restarts.map(scripted), "workflows": try scenario.workflows.map(scripted)]
        if let p = scenario.defaultPool { obj["default_pool"] = p }
        if let p = scenario.pools { obj["pools"] = try parsed(p, "pools") }
        if let r = scenario.resources { obj["resources"] = try parsed(r, "resources") }
        try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: stateDir + "/scenario.json"))
        for name in ["workflows.json", "mode", "fail_state.json"] { try? FileManager.default.removeItem(atPath: stateDir + "/" + name) }
    }

    /// Switches the mode for later calls (also for an `expt` already configured with `environment`).
    public func setMode(_ mode: Mode) throws {
        try mode.rawValue.write(toFile: stateDir + "/mode", atomically: true, encoding: .utf8)
    }

    /// Every call so far, in order.
    public func calls() -> [Call] {
        guard let text = try? String(contentsOfFile: stateDir + "/calls.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Call(argv: o["argv"] as? [String] ?? [], exit: o["exit"] as? Int ?? -1,
                        unexpected: o["unexpected"] as? Bool ?? false, note: o["note"] as? String,
                        files: o["files"] as? [String: String] ?? [:])
        }
    }

    /// Calls the fake refused (exit 99): each one is a bug in the code under test.
    public func unexpectedCalls() -> [Call] { calls().filter(\.unexpected) }

    /// The argv of every call whose first words are `prefix` (e.g. `["workflow", "submit"]`).
    public func argvs(_ prefix: [String] = []) -> [[String]] {
        calls().map(\.argv).filter { $0.starts(with: prefix) }
    }

    /// The workflows the service holds, in submission order; empty before any call.
    public func workflows() -> [Record] {
        guard let data = FileManager.default.contents(atPath: stateDir + "/workflows.json"),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = obj["workflows"] as? [[String: Any]] else { return [] }
        return list.map { w in
            let sub = w["submitted"] as? [String: Any] ?? [:]
            return Record(id: w["id"] as? String ?? "", pool: w["pool"] as? String, parent: w["parent"] as? String,
                          cancelled: w["cancelled"] as? Bool ?? false, cancelMessage: w["cancel_message"] as? String,
                          set: sub["set"] as? [String] ?? [], setString: sub["set_string"] as? [String] ?? [],
                          file: sub["file"] as? String, priority: sub["priority"] as? String, step: w["step"] as? Int ?? 0)
        }
    }

    // MARK: fixtures

    /// Tests/ExptBackendsTests/Fixtures/osmo: the project's OSMO samples (SOURCES.md there).
    public static var fixturesDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/ExptBackendsTests/Fixtures/osmo").standardized.path
    }

    /// The text of one fixture, e.g. `query-oom-evicted.json` or `evalfixture-pool_list.json`.
    public static func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: fixturesDirectory + "/" + name, encoding: .utf8)
    }

    /// `json` with `change` applied to it as a JSON object (e.g. a state's status).
    public static func edit(_ json: String, _ change: (inout [String: Any]) throws -> Void) throws -> String {
        guard var obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw Failure(description: "FakeOSMO.edit: not a JSON object")
        }
        try change(&obj)
        return String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self)
    }

    /// fake-osmo in the source tree (or `EXPT_FAKE_OSMO`).
    public static func locateScript() throws -> String {
        if let p = ProcessInfo.processInfo.environment["EXPT_FAKE_OSMO"] { return p }
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Tests/EndToEndTests/Fixtures/fake-osmo").standardized.path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Failure(description: "the fake osmo is not at \(path) (or not executable)")
        }
        return path
    }

    struct Failure: Error, CustomStringConvertible { var description: String }
}
