import Foundation
import ExptModel

/// Argo Workflows (docs/backends/argo.md). A run is one workflow submitted from a
/// WorkflowTemplate (or a workflow file of the repository) with the run's parameters; an array
/// run fans out over its items, which the template receives as a JSON list in `item_parameter`.
/// Every command goes through `exec_prefix` when one is set (a login host, or `wsl -e bash -c`
/// from Windows, with `env` exported inside the one quoted string).
///
/// Polling is one `argo list` for every workflow of the repository plus one `argo get` for each
/// workflow whose phase or progress changed since the last poll (the last `get` is kept in the
/// run directory). Pod facts of a failed or stuck item are read with `kubectl` once, when first
/// seen, and saved beside it: pods are garbage-collected.
public struct ArgoBackend: Backend {
    public let name = "argo"
    public let settings: ArgoSettings
    let runner: ProcessRunner
    let runsDir: String
    /// Tests move it; status compares pod ages against `stuck_after` with it.
    let now: @Sendable () -> Date

    public init(settings: ArgoSettings, runner: ProcessRunner, runsDir: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings; self.runsDir = runsDir; self.now = now
        // CLIs under expt never colour or page; a prefix needs the variables inside its string.
        self.runner = ClusterRunner.make(runner, execPrefix: settings.execPrefix, env: settings.env)
    }

    public var needsCommand: Bool { false }
    var namespace: String { settings.namespace ?? "default" }
    var remote: Bool { !(settings.execPrefix ?? []).isEmpty }

    // MARK: submit

    public func submit(_ spec: JobSpec) throws -> JobRef {
        let (argv, stdin) = try submission(spec)
        let result = try ArgoCLI.check(runner.run(argv, stdin: stdin.map { Data($0.utf8) }, environment: nil, cwd: nil), argv,
                                       hint: "the workflow template must exist in namespace \(namespace): `argo template list -n \(namespace)`")
        // `-o name` prints `workflow.argoproj.io/NAME` or `NAME` depending on the version.
        let line = result.stdout.split(separator: "\n").last { !$0.hasPrefix("wsl:") }.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let workflow = String(line.split(separator: "/").last ?? "")
        guard !workflow.isEmpty else { throw ExptError(.external, "`\(ShellQuote.join(argv))` printed no workflow name") }
        try RunFiles(runsDir: runsDir, runID: spec.runID).saveSubmission(.init(workflow: workflow, namespace: namespace,
                                                                                 items: spec.array?.indices ?? []))
        return JobRef(backend: name, jobID: workflow)
    }

    /// What `submit` runs. Three shapes: the whole workflow (no items named: the template
    /// fans out by itself); the template with the items as a JSON list (`item_parameter`); or,
    /// for a subset of items with `item_template`, a new workflow with one task per item and
    /// the aggregation after them, on stdin.
    func submission(_ spec: JobSpec) throws -> (argv: [String], stdin: String?) {
        var parameters = try carriedParameters(spec).merging(settings.parameters ?? [:]) { _, b in b }
        if let p = settings.memoryParameter, let mb = spec.resources.memoryMB { parameters[p] = ClusterNames.quantity(megabytes: mb) }
        var labels = settings.labels ?? [:]
        labels["expt.run"] = spec.runID
        labels["expt.branch"] = ClusterNames.labelValue(spec.branch)
        let prefix = ArgoNames.workflowPrefix(runID: spec.runID, branch: spec.branch)
        // argo takes ONE -l (a later one replaces it): all labels in one comma-separated value.
        let tail = parameters.sorted { $0.key < $1.key }.flatMap { ["-p", "\($0.key)=\($0.value)"] }
            + ["-l", labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","), "-o", "name"]
        if let items = spec.array?.indices, settings.itemParameter == nil {
            guard let itemTemplate = settings.itemTemplate else {
                throw ExptError(.invalidInput, "running some items of an Argo workflow needs [argo] item_template (or item_parameter)",
                                hint: "set item_template = \"<WorkflowTemplate>/<template>\" of one item, as the fan-out uses it")
            }
            let inherited = spec.parentRun.map { RunFiles(runsDir: runsDir, runID: $0).spec() } ?? [:]
            let manifest = try ArgoManifest.items(items, itemTemplate: itemTemplate, settings: settings, profile: spec.profile,
                                                  generateName: prefix, namespace: namespace, labels: labels,
                                                  maxConcurrent: spec.array?.maxConcurrent, inherited: inherited)
            return (["argo", "submit", "-", "-n", namespace] + tail, manifest)
        }
        if let items = spec.array?.indices, let p = settings.itemParameter {
            parameters[p] = "[" + items.map(String.init).joined(separator: ",") + "]"
        }
        let args = parameters.sorted { $0.key < $1.key }.flatMap { ["-p", "\($0.key)=\($0.value)"] }
            + ["-l", labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","), "-o", "name"]
        if let file = settings.workflowFile {
            guard !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
                throw ExptError(.invalidInput, "[argo] workflow_file '\(file)' must be a path inside the repository")
            }
            // On stdin: a path of this machine may not exist behind an exec prefix (wsl, ssh).
            let path = spec.workdir + "/" + file
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ExptError(.notFound, "[argo] workflow_file \(file) cannot be read in the worktree (\(path))")
            }
            return (["argo", "submit", "-", "-n", namespace, "--generate-name", prefix] + args, text)
        }
        let template = spec.profile.flatMap { settings.profileTemplates?[$0] } ?? settings.workflowTemplate
        guard let template else {
            throw ExptError(.invalidInput, "[argo] names no workflow to submit",
                            hint: "set workflow_template = \"<WorkflowTemplate name>\" (or workflow_file) in expt.toml's [argo]")
        }
        return (["argo", "submit", "-n", namespace, "--from", "workflowtemplate/\(template)", "--generate-name", prefix] + args, nil)
    }

    /// The parameters of the workflow a relaunch replaces (saved by its last poll), so the new
    /// one runs with the same data paths and models.
    func carriedParameters(_ spec: JobSpec) throws -> [String: String] {
        guard let parent = spec.parentRun else { return [:] }
        return RunFiles(runsDir: runsDir, runID: parent).parameters()
    }

    // MARK: poll

    public func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus] {
        guard !refs.isEmpty else { return [:] }
        let list = ["argo", "list", "-n", namespace, "-l", "expt.run", "-o", "json"]
        let text = try ArgoCLI.check(runner.run(list), list).stdout
        let listed = try ArgoJSON.workflows(text, command: ShellQuote.join(list))
        var byName: [String: ArgoWorkflow] = [:]
        for wf in listed { byName[wf.name] = wf }
        var raw: [String: [String: Any]] = [:]
        var out: [JobRef: JobStatus] = [:]
        var factsBudget = 25     // kubectl reads per poll, over all workflows
        for ref in refs {
            guard let summary = byName[ref.jobID], let runID = summary.labels["expt.run"] else { continue }
            let files = RunFiles(runsDir: runsDir, runID: runID)
            if raw.isEmpty, let part = try? ArgoJSON.payload(text, command: ""), let array = try? JSONSerialization.jsonObject(with: Data(part.utf8)) as? [[String: Any]] {
                for w in array { if let n = (w["metadata"] as? [String: Any])?["name"] as? String { raw[n] = w } }
            }
            if let w = raw[ref.jobID] { files.saveSpec(w) }
            let workflow = try full(summary, files)
            out[ref] = try status(ref, workflow, files, factsBudget: &factsBudget)
        }
        return out
    }

    /// The workflow with its nodes. `argo list -o json` carries them, so no `get` is needed;
    /// only for a workflow whose nodes are kept elsewhere (offloaded) and whose phase or
    /// progress changed since the last `get` (kept in the run directory) is one made.
    func full(_ summary: ArgoWorkflow, _ files: RunFiles) throws -> ArgoWorkflow {
        defer { files.saveParameters(summary.parameters) }
        if !summary.nodesElsewhere && !summary.nodes.isEmpty { return summary }
        if let saved = files.lastGet(), saved.phase == summary.phase, saved.progress == summary.progress,
           saved.finishedAt == summary.finishedAt, !saved.nodes.isEmpty {
            return saved
        }
        let get = ["argo", "get", "-n", namespace, summary.name, "-o", "json"]
        let result = try ArgoCLI.check(runner.run(get), get)
        let workflow = try ArgoJSON.workflow(result.stdout, command: ShellQuote.join(get))
        files.saveGet(result.stdout)
        return workflow
    }

    func status(_ ref: JobRef, _ workflow: ArgoWorkflow, _ files: RunFiles, factsBudget: inout Int) throws -> JobStatus {
        let submitted = files.submission()?.items ?? []
        var tasks: [TaskStatus] = []
        let items = ArgoItems.items(of: workflow, itemInput: settings.itemInput, podNameVersion: ArgoNames.podNameVersion(of: workflow))
        var seen = Set<Int>()
        for item in items where submitted.isEmpty || submitted.contains(item.index) {
            seen.insert(item.index)
            var task = item.taskStatus
            // Facts of a failed or possibly stuck pod, read once (bounded per poll) and kept.
            let maybeStuck = task.state == .pending && (item.startedAt.map { now().timeIntervalSince($0) > stuckAfter } ?? false)
            if (task.state.isFailure || maybeStuck), let pod = item.podName, factsBudget > 0 {
                if let facts = podFacts(pod, item: item.index, files: files, refresh: maybeStuck, budget: &factsBudget),
                   let stuck = facts.stuckDescription(now: now(), threshold: stuckAfter) {
                    task.state = .stalled
                    task.message = stuck + (task.message.map { "; argo: \($0)" } ?? "")
                }
            }
            tasks.append(task)
        }
        // Items Argo has not created nodes for yet (held back by parallelism) are pending.
        for index in submitted where !seen.contains(index) {
            tasks.append(TaskStatus(index: index, state: workflow.isCompleted ? .cancelled : .pending, rawState: "NotStarted"))
        }
        tasks.sort { $0.index < $1.index }
        files.saveItems(tasks.map(\.index), pods: Dictionary(items.compactMap { i in i.podName.map { (i.index, $0) } }) { a, _ in a })
        var state = ArgoPhase.jobState(phase: workflow.phase, message: workflow.message)
        let live = tasks.filter { !$0.state.isTerminal }
        if state == .running || state == .pending, !live.isEmpty, live.allSatisfy({ $0.state == .stalled }) { state = .stalled }
        if state == .failed, !tasks.isEmpty, tasks.filter({ $0.state.isFailure }).allSatisfy({ $0.state == .oom }) { state = .oom }
        var reason = workflow.message
        if let step = settings.aggregateStep {
            let agg = ArgoItems.step(of: workflow, named: step, itemInput: settings.itemInput)
            reason = [reason, "\(step): \(agg?.phase ?? "not started")"].compactMap { $0 }.joined(separator: "; ")
        }
        let done = tasks.filter { $0.state == .succeeded }.count
        return JobStatus(ref: ref, state: state, rawState: workflow.phase.isEmpty ? "Pending" : workflow.phase,
                         reason: tasks.isEmpty ? reason : "\(done)/\(tasks.count) items done" + (reason.map { "; \($0)" } ?? ""),
                         exitCode: tasks.isEmpty ? items.first?.exitCode : nil, startedAt: workflow.startedAt, endedAt: workflow.finishedAt,
                         elapsedSeconds: workflow.startedAt.map { Int((workflow.finishedAt ?? now()).timeIntervalSince($0)) }, tasks: tasks)
    }

    var stuckAfter: TimeInterval { TimeInterval(settings.stuckAfter.flatMap(Units.seconds) ?? 600) }

    /// The pod's facts and events, from kubectl, saved in the run directory; nil when they were
    /// saved before (and the pod is not being watched for a stall) or cannot be had. Best effort:
    /// kubectl missing or refused must not fail a status, and the node's message stays the evidence.
    func podFacts(_ pod: String, item: Int, files: RunFiles, refresh: Bool, budget: inout Int) -> PodFacts? {
        if !refresh, files.hasPodFacts(item: item) { return nil }
        budget -= 1
        let get = ["kubectl", "get", "pod", pod, "-n", namespace, "-o", "json"]
        guard let r = try? runner.run(get), r.status == 0, var facts = try? PodFacts.parse(pod: r.stdout, command: ShellQuote.join(get)) else {
            // Gone (garbage-collected) or unreadable: said once, not asked again every poll.
            files.savePodFacts(item: item, "pod \(pod): its facts could not be read (garbage-collected, or kubectl unavailable)\n")
            return nil
        }
        let ev = ["kubectl", "get", "events", "-n", namespace, "--field-selector", "involvedObject.name=\(pod)", "-o", "json"]
        if let e = try? runner.run(ev), e.status == 0, let events = try? PodFacts.parse(events: e.stdout, command: ShellQuote.join(ev)) {
            facts.events = events
        }
        files.savePodFacts(item: item, facts.report(now: now(), threshold: stuckAfter))
        return facts
    }

    // MARK: cancel, logs, lookup

    public func cancel(_ ref: JobRef) throws {
        let argv = ["argo", "stop", "-n", namespace, ref.jobID, "--message", "expt: stopped by expt (cancel or fix-and-relaunch)"]
        _ = try ArgoCLI.check(runner.run(argv), argv)
    }

    /// Per item: the pod's log (`argo logs`), and the pod facts saved when it failed.
    public func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource] {
        let files = RunFiles(runsDir: runsDir, runID: spec.runID)
        // The items submitted, else those the workflow fanned out to (seen by the last poll).
        let known = spec.array?.indices ?? files.items()
        let items: [Int?] = known.isEmpty ? [nil] : known.map { Optional($0) }
        return items.flatMap { i -> [LogSource] in
            [LogSource(kind: .stdout, path: "argo://\(namespace)/\(ref.jobID)/\(i.map(String.init) ?? "")", remote: true, task: i),
             LogSource(kind: .stderr, path: files.podFactsPath(item: i ?? 0), remote: false, task: i)]
        }
    }

    public func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk {
        guard source.path.hasPrefix("argo://") else { return try LocalLogFile.read(source.path, range) }
        let parts = source.path.dropFirst("argo://".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw ExptError(.failure, "not an Argo log source: \(source.path)") }
        let workflow = parts[1]
        var argv = ["argo", "logs", "-n", parts[0], workflow]
        if let item = Int(parts[2]) {
            // The item's latest pod, as the last poll saw it (no extra `argo get`).
            guard let runID = runID(ofWorkflow: workflow), let pod = RunFiles(runsDir: runsDir, runID: runID).pods()[item] else {
                throw ExptError(.notFound, "item \(item) of \(workflow) has no pod yet")
            }
            argv.append(pod)
        }
        argv += ["-c", "main", "--no-color"]
        let text = try ArgoCLI.check(runner.run(argv), argv).stdout
        // argo prefixes every line with `<pod>: `; the program's own lines are what rules read.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            guard let colon = line.range(of: ": "), !line[..<colon.lowerBound].contains(" ") else { return line }
            return line[colon.upperBound...]
        }
        return LogChunk.slice(Array(lines.joined(separator: "\n").utf8), range)
    }

    /// The run whose submission made `workflow` (from the run directories).
    func runID(ofWorkflow workflow: String) -> String? {
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: runsDir)) ?? []
        return runs.first { RunFiles(runsDir: runsDir, runID: $0).submission()?.workflow == workflow }
    }

    /// The newest workflow labelled with the run id.
    public func lookup(jobName: String, spec: JobSpec) throws -> JobRef? {
        let argv = ["argo", "list", "-n", namespace, "-l", "expt.run=\(spec.runID)", "-o", "json"]
        let found = try ArgoJSON.workflows(ArgoCLI.check(runner.run(argv), argv).stdout, command: ShellQuote.join(argv))
        return found.max { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }.map { JobRef(backend: name, jobID: $0.name) }
    }

    public var files: ClusterFiles {
        remote ? RemoteFiles(runner: runner, hostDescription: "the host reached by exec_prefix \(ShellQuote.join(settings.execPrefix ?? []))")
               : LocalFiles()
    }
}
