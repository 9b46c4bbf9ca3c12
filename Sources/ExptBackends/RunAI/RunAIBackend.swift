import Foundation
import ExptModel

/// Run:ai through its CLI v2 (docs/backends/runai.md): a run is one training workload (an array
/// run, one workload per item: Run:ai trainings have no indexes). Polling is ONE
/// `runai training list -p P --json`, plus `describe` only for workloads whose status changed
/// since the last poll (its scheduler messages say why one waits or was preempted). Over quota
/// is a wait, not a failure; a preemption resumes from the checkpoint and is not counted.
public struct RunAIBackend: Backend {
    public let name = "runai"
    public let settings: RunAISettings
    let runner: ProcessRunner
    let runsDir: String

    public init(settings: RunAISettings, runner: ProcessRunner, runsDir: String) {
        self.settings = settings; self.runsDir = runsDir
        self.runner = ClusterRunner.make(runner, execPrefix: settings.execPrefix, env: settings.env)
    }

    var project: String { settings.project ?? "" }

    var submission: RunAICommands.Submission {
        RunAICommands.Submission(project: project, image: settings.image ?? "",
                                 priorityClass: RunAICommands.priorityClass(preemptible: settings.preemptible ?? true),
                                 workingDir: settings.workingDir, labels: settings.labels ?? [:])
    }

    /// The workloads of a run: `<name>` for a single job, `<name>-<item>` for each item.
    public func submit(_ spec: JobSpec) throws -> JobRef {
        let base = RunAICommands.workloadName(runID: spec.runID, branch: spec.branch)
        let items: [Int?] = spec.array.map { $0.indices.map { Optional($0) } } ?? [nil]
        var names: [String] = []
        for item in items {
            let name = item.map { "\(base)-\($0)" } ?? base
            let argv = try RunAICommands.submit(name: name, spec: spec, submission, item: item)
            _ = try RunAICLI.check(runner.run(argv), argv, project: project)
            names.append(name)
        }
        try RunFiles(runsDir: runsDir, runID: spec.runID)
            .saveSubmission(.init(workflow: base, namespace: project, items: spec.array?.indices ?? []))
        return JobRef(backend: name, jobID: base)
    }

    public func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus] {
        guard !refs.isEmpty else { return [:] }
        let argv = RunAICommands.list(project: project)
        let listed = try RunAIOutput.list(RunAICLI.check(runner.run(argv), argv, project: project).stdout, command: ShellQuote.join(argv))
        var out: [JobRef: JobStatus] = [:]
        for ref in refs {
            let mine = listed.filter { $0.name == ref.jobID || $0.name.hasPrefix(ref.jobID + "-") }
            guard !mine.isEmpty else { continue }
            var tasks: [TaskStatus] = []
            for w in mine {
                let messages = try messages(of: w)
                let state = RunAIStatus.jobState(status: w.status, messages: messages)
                let item = w.name == ref.jobID ? nil : Int(w.name.dropFirst(ref.jobID.count + 1))
                tasks.append(TaskStatus(index: item ?? 0, state: state, rawState: w.status,
                                        message: RunAIMessages.first(in: messages)?.text ?? messages.first))
            }
            tasks.sort { $0.index < $1.index }
            let single = mine.count == 1 && mine[0].name == ref.jobID
            let states = tasks.map(\.state)
            let state: JobState = states.allSatisfy { $0 == .succeeded } ? .succeeded
                : states.contains { !$0.isTerminal } ? (states.contains(.running) ? .running : states.first { !$0.isTerminal } ?? .pending)
                : states.first { $0.isFailure } ?? .failed
            out[ref] = JobStatus(ref: ref, state: state, rawState: single ? mine[0].status : state.rawValue,
                                 reason: tasks.first { $0.state == .pending }?.message, tasks: single ? [] : tasks)
        }
        return out
    }

    /// The scheduler's words about a workload: `describe` once per status change (saved), the
    /// list's own message otherwise.
    func messages(of w: RunAIWorkload) throws -> [String] {
        guard w.status != "Running" && w.status != "Succeeded" && w.status != "Completed" else { return w.messages }
        let path = runsDir + "/runai-describe/\(w.name).\(w.status).txt"
        if let saved = try? String(contentsOfFile: path, encoding: .utf8) { return w.messages + saved.split(separator: "\n").map(String.init) }
        let argv = RunAICommands.describe(name: w.name, project: project)
        guard let r = try? runner.run(argv), r.status == 0, let d = try? RunAIOutput.describe(r.stdout, command: ShellQuote.join(argv)) else {
            return w.messages
        }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? d.messages.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return w.messages + d.messages
    }

    public func cancel(_ ref: JobRef) throws {
        let items = RunFiles(runsDir: runsDir, runID: runID(of: ref) ?? "").submission()?.items ?? []
        for name in items.isEmpty ? [ref.jobID] : items.map({ "\(ref.jobID)-\($0)" }) {
            let argv = RunAICommands.delete(name: name, project: project)
            _ = try RunAICLI.check(runner.run(argv), argv, project: project)
        }
    }

    func runID(of ref: JobRef) -> String? {
        ((try? FileManager.default.contentsOfDirectory(atPath: runsDir)) ?? [])
            .first { RunFiles(runsDir: runsDir, runID: $0).submission()?.workflow == ref.jobID }
    }

    public func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource] {
        let items: [Int?] = spec.array.map { $0.indices.map { Optional($0) } } ?? [nil]
        return items.map { i in
            LogSource(kind: .combined, path: "runai://\(project)/" + (i.map { "\(ref.jobID)-\($0)" } ?? ref.jobID), remote: true, task: i)
        }
    }

    public func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk {
        guard source.path.hasPrefix("runai://") else { return try LocalLogFile.read(source.path, range) }
        let parts = source.path.dropFirst("runai://".count).split(separator: "/").map(String.init)
        guard parts.count == 2 else { throw ExptError(.failure, "not a Run:ai log source: \(source.path)") }
        let argv = RunAICommands.logs(name: parts[1], project: parts[0])
        return LogChunk.slice(Array(try RunAICLI.check(runner.run(argv), argv, project: parts[0]).stdout.utf8), range)
    }

    public func lookup(jobName: String, spec: JobSpec) throws -> JobRef? {
        let base = RunAICommands.workloadName(runID: spec.runID, branch: spec.branch)
        let argv = RunAICommands.list(project: project)
        let listed = try RunAIOutput.list(RunAICLI.check(runner.run(argv), argv, project: project).stdout, command: ShellQuote.join(argv))
        return listed.contains { $0.name == base || $0.name.hasPrefix(base + "-") } ? JobRef(backend: name, jobID: base) : nil
    }

    /// Over quota is a wait (advice: a preemptible workload); a reason Run:ai gives for never
    /// starting blocks.
    public func pendingVerdict(reason: String?) -> PendingVerdict { RunAIMessages.pendingVerdict(reason: reason) }
}

/// The `[runai]` table of expt.toml.
public struct RunAISettings: Decodable, Sendable, Equatable {
    /// The Run:ai project (`-p`).
    public var project: String?
    public var image: String?
    /// Preemptible workloads (the `train` priority class) may use over-quota resources and can
    /// be preempted; non-preemptible ones (`build`) wait for quota. Default true.
    public var preemptible: Bool?
    public var workingDir: String?
    public var labels: [String: String]?
    public var execPrefix: [String]?
    public var env: [String: String]?
}

extension RunAIBackend {
    public static let entry = BackendEntry(name: "runai", settings: RunAISettings.self) { s, context in
        RunAIBackend(settings: s, runner: context.runner, runsDir: context.runsDir)
    }
}
