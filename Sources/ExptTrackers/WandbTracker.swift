import Foundation
import ExptModel
import ExptTemplates

/// Weights & Biases as the run tracker. Runs are linked through the `WANDB_*` variables the
/// SDK honours; what W&B knows is read in one call of a small Python helper over `wandb.Api()`
/// (`templates/wandb-helper.py`; there is no CLI verb for run state), and offline runs by their
/// directory name. `wandb status` is never run: it prints the API key. Every call has a
/// deadline (`timeout`): `wandb sync` and the API retry forever without one.
public struct WandbTracker: RunTracker {
    public let name = "wandb"
    public let settings: TrackerSettings
    public let location: WandbLocation
    let repoRoot: String
    let runner: ProcessRunner

    public init(settings: TrackerSettings, repoRoot: String, worktree: String?, runner: ProcessRunner,
                environment: [String: String]) {
        self.settings = settings; self.repoRoot = repoRoot; self.runner = runner
        let home = environment["HOME"] ?? NSHomeDirectory()
        let files = [worktree.map { $0 + "/wandb/settings" }, repoRoot + "/wandb/settings",
                     environment["WANDB_CONFIG_DIR"].map { $0 + "/settings" }, home + "/.config/wandb/settings"].compactMap { $0 }
        location = WandbLocation.resolve(settings, environment: environment, settingsFiles: files)
    }

    public var identity: String {
        [name, location.entity ?? "", location.project ?? "", location.baseURL ?? "", settings.python, location.offline ? "offline" : ""].joined(separator: "|")
    }

    public func environment(_ link: TrackerLink) -> [String: String] {
        var env = [
            "WANDB_RUN_ID": link.continuing ?? WandbRunID.make(repoRoot: repoRoot, branch: link.branch, runID: link.runID),
            // allow: a requeued job (same variables) or a resumed run continues the run if it
            // exists and starts it if not; `must` would fail a first attempt.
            "WANDB_RESUME": "allow",
            "WANDB_NAME": "\(link.branch) \(link.runID)",
            "WANDB_RUN_GROUP": link.branch,
            "WANDB_TAGS": ["expt", "expt-\(link.runID)", "attempt-\(link.attempt)"].joined(separator: ","),
        ]
        if let e = location.entity { env["WANDB_ENTITY"] = e }
        if let p = location.project { env["WANDB_PROJECT"] = p }
        if let b = location.baseURL { env["WANDB_BASE_URL"] = b }
        return env
    }

    public func url(runID: String) -> String? {
        guard let entity = location.entity, let project = location.project else { return nil }
        return "\(location.appURL)/\(entity)/\(project)/runs/\(runID)"
    }

    // MARK: - Reading

    public func fetch(_ runs: [TrackedRun]) -> TrackerSnapshot {
        var snapshot = TrackerSnapshot()
        for r in runs {
            var run = TrackerRun(id: r.trackerID, source: .files, url: url(runID: r.trackerID))
            let dirs = WandbFiles.runDirectories(r.trackerID, in: r.searchDirs)
            run.directories = dirs.map(\.path)
            run.heartbeatAt = dirs.compactMap(\.lastWrite).max()
            if !dirs.isEmpty || url(runID: r.trackerID) != nil { snapshot.runs[r.trackerID] = run }
        }
        let online = runs.filter(\.online)
        guard !online.isEmpty else { return snapshot }
        if location.offline { return snapshot }
        guard location.project != nil, location.entity != nil else {
            let missing = location.project == nil ? "project" : "entity"
            snapshot.notice = "W&B: no \(missing) is set ([wandb] \(missing), WANDB_\(missing.uppercased()) or wandb/settings), so only logs and run directories are read"
            return snapshot
        }
        var paths: [String: String] = [:]
        for r in online { if let p = location.path(r.trackerID) { paths[p] = r.trackerID } }
        let answer: [String: Any]
        do {
            answer = try helper("fetch", ["paths": paths.keys.sorted()])
        } catch let e as ExptError {
            snapshot.notice = e.message + "; showing what the logs and run directories say"
            return snapshot
        } catch {
            snapshot.notice = "W&B could not be asked (\(error)); showing what the logs and run directories say"
            return snapshot
        }
        let found = answer["runs"] as? [String: Any] ?? [:]
        for (path, value) in found {
            guard let id = paths[path], let o = value as? [String: Any] else { continue }
            var run = snapshot.runs[id] ?? TrackerRun(id: id, source: .api)
            run.source = .api
            WandbAnswer.apply(o, to: &run)
            snapshot.runs[id] = run
        }
        for (path, message) in answer["errors"] as? [String: String] ?? [:] {
            if let id = paths[path] { snapshot.errors[id] = message }
        }
        return snapshot
    }

    // MARK: - Changing

    public func close(runID: String) throws -> String {
        try requireOnline("close a W&B run")
        guard let path = location.path(runID) else { throw noProject("close a W&B run") }
        let a = try helper("close", ["path": path, "state": "failed"])
        return "marked W&B run \(path) failed (it was \(a["previous"] as? String ?? "?"))"
    }

    public func tag(runID: String, _ tag: String) throws {
        try requireOnline("tag a W&B run")
        guard let path = location.path(runID) else { throw noProject("tag a W&B run") }
        _ = try helper("tag", ["path": path, "tag": tag])
    }

    public func cancelSweepCommand(_ sweep: String, stop: Bool) -> [String] {
        ["wandb", "sweep", stop ? "--stop" : "--cancel", sweep]
    }

    public func cancelSweep(_ sweep: String, stop: Bool) throws -> String {
        let argv = deadline(cancelSweepCommand(sweep, stop: stop))
        let r = try runner.run(argv, stdin: nil, environment: location.baseURL.map { ["WANDB_BASE_URL": $0] }, cwd: nil)
        let said = (r.stdout + "\n" + r.stderr).split(separator: "\n").map(String.init)
        if r.status == 124 {
            throw ExptError(.external, "`wandb sweep` did not answer within \(Int(settings.timeout)) s", hint: "check the network, then run `expt cancel` again")
        }
        if r.status == 127 || (r.status != 0 && said.isEmpty) {
            throw ExptError(.external, "the wandb CLI is not installed or not on PATH", hint: "pip install wandb, or cancel the sweep in the W&B web app")
        }
        // wandb raises a bare `Exception: Sweep already canceled.` (sweeps.py _set_sweep_state) for
        // a sweep that has ended: nothing is left to stop, so a rerun of cancel goes on to the jobs.
        if r.status != 0, let already = said.last(where: { $0.contains("Sweep already ") }) {
            return "W&B sweep \(sweep) had already ended (\(already.replacingOccurrences(of: "Exception: ", with: "")))"
        }
        guard r.status == 0 else {
            let why = said.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? "exit \(r.status)"
            throw ExptError(.external, "W&B refused to \(stop ? "stop" : "cancel") sweep \(sweep): \(Redactor.redact(why))",
                            hint: "check the sweep id (entity/project/id) in the W&B web app")
        }
        return "\(stop ? "stopped" : "cancelled") W&B sweep \(sweep)"
    }

    // MARK: - The helper

    func deadline(_ argv: [String]) -> [String] {
        ["timeout", "-k", "2", String(Int(settings.timeout))] + argv
    }

    /// Runs one verb of the helper: a JSON request on stdin, a JSON answer on stdout.
    func helper(_ verb: String, _ request: [String: Any]) throws -> [String: Any] {
        guard let script = EmbeddedTemplates.text("wandb-helper.py") else {
            throw ExptError(.failure, "the W&B helper is missing from this expt build")
        }
        var req = request
        req["timeout"] = max(1, Int(settings.timeout) - 2)
        if let b = location.baseURL { req["base_url"] = b }
        let body = try JSONSerialization.data(withJSONObject: req, options: [.sortedKeys])
        let r = try runner.run(deadline([settings.python, "-c", script, verb]), stdin: body, environment: nil, cwd: nil)
        let answer = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        let message = Redactor.redact(answer["message"] as? String ?? r.stderrTail)
        switch r.status {
        case 0: return answer
        case 3: throw ExptError(.external, "W&B: wandb is not installed for \(settings.python)", hint: "pip install wandb (or set [wandb] python)")
        case 4: throw ExptError(.external, "W&B: not logged in", hint: "run `wandb login`, or set WANDB_API_KEY")
        case 6: throw ExptError(.external, "W&B: \(message)", hint: "pip install -U wandb")
        case 124: throw ExptError(.external, "W&B did not answer within \(Int(settings.timeout)) s", hint: "check the network or raise [wandb] timeout")
        case 127: throw ExptError(.external, "W&B: \(settings.python) is not installed", hint: "install Python 3 and wandb, or set [wandb] python")
        case 5 where answer["reason"] as? String == "unreachable" || answer["reason"] as? String == "timeout":
            throw ExptError(.external, "W&B could not be reached (\(message))", hint: "check the network or [wandb] base_url")
        default: throw ExptError(.external, "W&B: \(message.isEmpty ? "the helper failed (exit \(r.status))" : message)")
        }
    }

    func noProject(_ what: String) -> ExptError {
        ExptError(.invalidInput, "cannot \(what): no W&B entity and project are set", hint: "set entity and project in [wandb] of expt.toml")
    }

    /// Offline (WANDB_MODE=offline, dryrun or disabled) W&B is never asked, for anything.
    func requireOnline(_ what: String) throws {
        if location.offline {
            throw ExptError(.conflict, "cannot \(what): W&B is offline for this experiment (WANDB_MODE)", hint: "`wandb sync` the run directories first")
        }
    }
}

/// The helper's answer for one run, as a `TrackerRun`.
enum WandbAnswer {
    static func apply(_ o: [String: Any], to run: inout TrackerRun) {
        run.state = o["state"] as? String
        if let h = o["heartbeat_at"] as? String { run.heartbeatAt = date(h) ?? run.heartbeatAt }
        if let u = o["url"] as? String { run.url = u }
        run.sweep = o["sweep"] as? String
        run.tags = o["tags"] as? [String] ?? []
        run.step = int(o["step"])
        run.epoch = double(o["epoch"])
        run.losses = (o["losses"] as? [Any] ?? []).compactMap(double)
        let config = o["config"] as? [String: Any] ?? [:]
        run.totalSteps = ["max_steps", "total_steps"].lazy.compactMap { int(config[$0]) }.first
        run.totalEpochs = ["max_epochs", "epochs", "num_train_epochs"].lazy.compactMap { int(config[$0]) }.first
    }

    /// W&B's `heartbeatAt` is ISO 8601, with or without a zone and fractions.
    static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            f.formatOptions = options
            if let d = f.date(from: s) { return d }
            if let d = f.date(from: s + "Z") { return d }
        }
        return nil
    }

    static func int(_ v: Any?) -> Int? {
        if let i = v as? Int { return i }
        if let d = v as? Double, d.isFinite, d.rounded() == d { return Int(d) }
        return nil
    }

    /// Numbers, and the strings the helper writes for what JSON cannot hold.
    static func double(_ v: Any?) -> Double? {
        switch v {
        case let d as Double: return d
        case let i as Int: return Double(i)
        case let s as String: return ["NaN": .nan, "Infinity": .infinity, "-Infinity": -.infinity][s]
        default: return nil
        }
    }
}

/// Run directories on this machine: `run-<stamp>-<id>` and `offline-run-<stamp>-<id>`, found by
/// name (the only thing every wandb version writes reliably offline).
enum WandbFiles {
    struct RunDir { var path: String; var lastWrite: Date? }

    static func runDirectories(_ id: String, in dirs: [String]) -> [RunDir] {
        let fm = FileManager.default
        var found: [(stamp: String, dir: RunDir)] = []
        for base in Set(dirs) {
            for name in (try? fm.contentsOfDirectory(atPath: base)) ?? [] where names(id, name) {
                let stem = name.hasPrefix("offline-run-") ? name.dropFirst("offline-run-".count)
                         : name.hasPrefix("run-") ? name.dropFirst("run-".count) : nil
                guard let stem else { continue }
                let path = base + "/" + name
                found.append((String(stem), RunDir(path: path, lastWrite: newestWrite(path))))
            }
        }
        return found.sorted { $0.stamp < $1.stamp }.map(\.dir)
    }

    /// `…-<id>`, or `…-<id>-<n>`: wandb adds `-1` to a second directory of one run made in the
    /// same second (`sdk/wandb_init.py`, `set_sync_dir_suffix`).
    static func names(_ id: String, _ name: String) -> Bool {
        if name.hasSuffix("-" + id) { return true }
        guard let dash = name.lastIndex(of: "-"), !name[name.index(after: dash)...].isEmpty,
              name[name.index(after: dash)...].allSatisfy(\.isNumber) else { return false }
        return name[..<dash].hasSuffix("-" + id)
    }

    /// The newest modification in the run directory, its `files/` and `logs/`: a live SDK
    /// writes there at least with every logged step.
    static func newestWrite(_ dir: String) -> Date? {
        let fm = FileManager.default
        var newest: Date?
        for sub in ["", "/files", "/logs"] {
            for name in (try? fm.contentsOfDirectory(atPath: dir + sub)) ?? [] {
                if let d = (try? fm.attributesOfItem(atPath: dir + sub + "/" + name))?[.modificationDate] as? Date {
                    newest = max(newest ?? d, d)
                }
            }
        }
        return newest
    }
}
