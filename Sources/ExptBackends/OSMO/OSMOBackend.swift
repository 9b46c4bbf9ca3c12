import Foundation
import ExptModel
import ExptTemplates

/// NVIDIA OSMO (docs/backends/osmo.md): the workflow file of the repository submitted exactly
/// as written, to the pool given in `[osmo]` or the one whose free GPUs match the request.
/// Polling is one `osmo workflow list`, plus `query --verbose` only for workflows whose status
/// changed since the last poll (kept in the run directory). A workflow's tasks are its items.
public struct OSMOBackend: Backend {
    public let name = "osmo"
    public let settings: OSMOSettings
    let runner: ProcessRunner
    let runsDir: String
    /// Where `osmo-workflow.yaml` comes from when `[osmo]` names no workflow file.
    let templates: Templates?

    public init(settings: OSMOSettings, runner: ProcessRunner, runsDir: String, templates: Templates? = nil) {
        self.settings = settings; self.runsDir = runsDir; self.templates = templates
        self.runner = RateLimitRetryingRunner(ClusterRunner.make(runner, execPrefix: settings.execPrefix, env: settings.env),
                                              delays: (settings.rateLimitBackoff ?? OSMOSettings.defaultBackoff).map { min(max($0, 0), 300) })
    }

    public var needsCommand: Bool { false }

    func files(_ runID: String) -> RunFiles { RunFiles(runsDir: runsDir, runID: runID) }

    /// The file to submit: the repository's workflow file in the worktree, or the template
    /// rendered into the run directory (with the values a restart must not change).
    func workflowPath(_ spec: JobSpec) throws -> (path: String, rendered: [String: String]?) {
        guard let file = settings.workflowFile else {
            let template = try (templates ?? Templates(repoRoot: nil)).text("osmo-workflow.yaml")
            let (yaml, values) = try OSMOTemplate.render(template, spec: spec, image: settings.image)
            let dir = files(spec.runID).dir
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try yaml.write(toFile: dir + "/osmo-workflow.yaml", atomically: true, encoding: .utf8)
            return (dir + "/osmo-workflow.yaml", values)
        }
        guard !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
            throw ExptError(.invalidInput, "[osmo] workflow_file must be a path inside the repository, not \(file)",
                            hint: "set workflow_file = \"workflows/train.yaml\" in expt.toml's [osmo]")
        }
        let path = spec.workdir + "/" + file
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExptError(.notFound, "[osmo] workflow_file \(file) is not in the worktree (\(path))")
        }
        return (path, nil)
    }

    /// The workflow file's path, or the template's render (no image, Jinja braces), checked
    /// without writing anything: what `submit` would refuse before calling osmo.
    public func check(_ spec: JobSpec) throws {
        if settings.workflowFile == nil {
            _ = try OSMOTemplate.render(try (templates ?? Templates(repoRoot: nil)).text("osmo-workflow.yaml"), spec: spec, image: settings.image)
        } else {
            _ = try workflowPath(spec)
        }
    }

    public func submit(_ spec: JobSpec) throws -> JobRef {
        let (path, rendered) = try workflowPath(spec)
        var set = settings.set ?? [:]
        if settings.workflowFile != nil, let key = settings.memoryKey, let mb = spec.resources.memoryMB {
            set[key] = ClusterNames.quantity(megabytes: mb)
        }
        let result: OSMOSubmitResult, pool: OSMOPoolChoice
        if let (parentID, parentPool) = transientRestart(spec, set: set, rendered: rendered) {
            // A transient failure (node, network, preemption) with nothing changed: rerun only
            // the failed groups, on the same pool.
            pool = OSMOPoolChoice(pool: parentPool, why: "restarted \(parentID) on its pool \(parentPool): only its failed groups run again",
                                  fits: true, freeGPUs: nil, explicit: true)
            let argv = OSMOCommands.restart(parentID, pool: parentPool)
            result = try OSMOJSON.submitResult(OSMOCLI.check(runner.run(argv), argv).stdout, command: ShellQuote.join(argv))
        } else {
            pool = try choosePool(spec)
            let argv = try OSMOCommands.submit(file: path, pool: pool.pool, set: set)
            result = try OSMOJSON.submitResult(OSMOCLI.check(runner.run(argv), argv).stdout, command: ShellQuote.join(argv))
        }
        try files(spec.runID).saveSubmission(.init(workflow: result.workflowID, namespace: pool.pool, items: []))
        if let data = try? JSONEncoder().encode(set) { try? data.write(to: URL(fileURLWithPath: files(spec.runID).dir + "/osmo-set.json")) }
        if let rendered, let data = try? JSONEncoder().encode(rendered) {
            try? data.write(to: URL(fileURLWithPath: files(spec.runID).dir + "/osmo-rendered.json"))
        }
        // What a user wants to see of the submission: the pool and why, the OSMO Web link, and
        // the outputs the workflow declares (datasets, URLs).
        let yaml = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let outputs = OSMOOutputs.declared(in: yaml, values: set).map { o in
            "output \(o.kind.rawValue): \(o.value)" + (o.task.map { " (task \($0))" } ?? "")
        }
        try? ([pool.why] + [result.overview].compactMap { $0 } + outputs).joined(separator: "\n")
            .write(toFile: files(spec.runID).dir + "/osmo-submission.txt", atomically: true, encoding: .utf8)
        return JobRef(backend: name, jobID: result.workflowID)
    }

    /// The parent workflow and its pool when a relaunch can be an `osmo workflow restart`: the
    /// parent failed for a transient reason (its root cause's exit code says node, network or
    /// preemption) and the relaunch changes no `--set` value (a restart cannot take new ones).
    func transientRestart(_ spec: JobSpec, set: [String: String], rendered: [String: String]?) -> (String, String)? {
        guard let parent = spec.parentRun, let sub = files(parent).submission() else { return nil }
        let dir = files(parent).dir
        func saved(_ name: String) -> [String: String]? {
            (try? Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))).flatMap { try? JSONDecoder().decode([String: String].self, from: $0) }
        }
        // The same --set values and, for a rendered workflow, the same command and resources.
        guard saved("osmo-set.json") == set, saved("osmo-rendered.json") == rendered else { return nil }
        let queries = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("osmo-query.FAILED") }
        guard let q = queries.first, let text = try? String(contentsOfFile: dir + "/" + q, encoding: .utf8),
              let wf = try? OSMOJSON.workflow(text, command: "the saved osmo query"),
              let code = OSMOTasks.rootCause(of: wf)?.exitCode,
              let category = OSMOExitCode.category(code), ["node_failure", "network_transient", "preempted"].contains(category) else {
            return nil
        }
        return (sub.workflow, sub.namespace)
    }

    /// The pool from `[osmo] pool`, or the one whose free GPUs fit the run's request best.
    func choosePool(_ spec: JobSpec) throws -> OSMOPoolChoice {
        let list = OSMOCommands.poolList()
        let pools = try OSMOJSON.pools(OSMOCLI.check(runner.run(list), list).stdout, command: ShellQuote.join(list))
        var nodes: [OSMONode] = []
        if settings.pool == nil, (spec.resources.gpus ?? 0) > 0 {
            let res = OSMOCommands.resourceList(pools: pools.map(\.name))
            nodes = try OSMOJSON.nodes(OSMOCLI.check(runner.run(res), res).stdout, command: ShellQuote.join(res))
        }
        return try OSMOPools.choose(gpus: spec.resources.gpus, gpuType: settings.gpuType, explicit: settings.pool,
                                    pools: pools, nodes: nodes, priority: "NORMAL")
    }

    public func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus] {
        guard !refs.isEmpty else { return [:] }
        let list = OSMOCommands.list(count: 200)
        let listed = try OSMOJSON.workflows(OSMOCLI.check(runner.run(list), list).stdout, command: ShellQuote.join(list))
        var out: [JobRef: JobStatus] = [:]
        for ref in refs {
            guard let summary = listed.first(where: { $0.workflowID == ref.jobID }) else { continue }
            guard let runID = runID(ofWorkflow: ref.jobID) else { continue }
            // `query --verbose` only when the list shows a change (status, start, end) since the
            // last one, whose answer is kept under the change's key.
            let saved = files(runID).dir + "/osmo-query.\(summary.status).json"
            let keyFile = files(runID).dir + "/osmo-query.key"
            let text: String
            if let cached = try? String(contentsOfFile: saved, encoding: .utf8),
               (try? String(contentsOfFile: keyFile, encoding: .utf8)) == summary.changeKey {
                text = cached
            } else {
                defer { try? summary.changeKey.write(toFile: keyFile, atomically: true, encoding: .utf8) }
                let q = OSMOCommands.query(ref.jobID)
                text = try OSMOCLI.check(runner.run(q), q).stdout
                try? text.write(toFile: saved, atomically: true, encoding: .utf8)
            }
            let wf = try OSMOJSON.workflow(text, command: ShellQuote.join(OSMOCommands.query(ref.jobID)))
            let tasks = OSMOTasks.taskStatuses(of: wf)
            let root = OSMOTasks.rootCause(of: wf)
            out[ref] = JobStatus(ref: ref, state: OSMOStatus.jobState(of: wf), rawState: wf.status,
                                 reason: root?.failureMessage ?? wf.overview,
                                 exitCode: root?.exitCode.map { Int32(clamping: $0) }, startedAt: wf.startTime, endedAt: wf.endTime,
                                 tasks: tasks.count > 1 ? tasks : [])
            files(runID).saveItems(tasks.map(\.index), pods: Dictionary(uniqueKeysWithValues: OSMOTasks.views(of: wf).map { ($0.index, $0.task.name) }))
        }
        return out
    }

    func runID(ofWorkflow id: String) -> String? {
        ((try? FileManager.default.contentsOfDirectory(atPath: runsDir)) ?? []).first { files($0).submission()?.workflow == id }
    }

    public func cancel(_ ref: JobRef) throws {
        let argv = OSMOCommands.cancel(ref.jobID, message: "expt: stopped by expt (cancel or fix-and-relaunch)")
        let r = try runner.run(argv)
        // `osmo workflow cancel` exits 0 even when it fails: its words decide.
        if case .failed(let why) = OSMOCLI.cancelOutcome(r, workflowID: ref.jobID) {
            throw ExptError(.external, "OSMO did not cancel \(ref.jobID): \(why)")
        }
    }

    /// Per task: `osmo workflow logs ID --task T` (the latest retry).
    public func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource] {
        let tasks = files(spec.runID).pods()
        guard tasks.count > 1 else {
            let only = tasks.values.first ?? ""
            return [LogSource(kind: .combined, path: "osmo://\(ref.jobID)/\(only)", remote: true)]
        }
        return tasks.sorted { $0.key < $1.key }.map { LogSource(kind: .combined, path: "osmo://\(ref.jobID)/\($0.value)", remote: true, task: $0.key) }
    }

    public func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk {
        let parts = source.path.dropFirst("osmo://".count).split(separator: "/", maxSplits: 1).map(String.init)
        guard source.path.hasPrefix("osmo://"), parts.count == 2, !parts[1].isEmpty else {
            throw ExptError(.notFound, "no OSMO task to read the logs of (\(source.path))")
        }
        let argv = OSMOCommands.logs(parts[0], task: parts[1])
        let text = OSMOCLI.logText(try OSMOCLI.check(runner.run(argv), argv).stdout).text
        return LogChunk.slice(Array(text.utf8), range)
    }

    /// The pool chosen and why, and the OSMO Web link, as saved at submission.
    public func notes(_ ref: JobRef, spec: JobSpec) -> [String] {
        ((try? String(contentsOfFile: files(spec.runID).dir + "/osmo-submission.txt", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// OSMO names the workflow after the YAML (`<name>-<N>`). A workflow expt rendered is named
    /// after the run's job name, so an interrupted submission is found in the list (the newest
    /// `<name>-<N>`); a repository's file names its own workflow, which other runs share, so
    /// nothing is claimed and the intent is discarded after its grace.
    public func lookup(jobName: String, spec: JobSpec) throws -> JobRef? {
        guard settings.workflowFile == nil else { return nil }
        let prefix = OSMOTemplate.workflowName(jobName) + "-"
        let list = OSMOCommands.list(count: 20, name: String(prefix.dropLast()))
        let listed = try OSMOJSON.workflows(OSMOCLI.check(runner.run(list), list).stdout, command: ShellQuote.join(list))
        let mine = listed.compactMap { w -> (Int, String)? in
            guard w.workflowID.hasPrefix(prefix), let n = Int(w.workflowID.dropFirst(prefix.count)) else { return nil }
            return (n, w.workflowID)
        }
        return mine.max { $0.0 < $1.0 }.map { JobRef(backend: name, jobID: $0.1) }
    }
}

/// The `[osmo]` table of expt.toml.
public struct OSMOSettings: Decodable, Sendable, Equatable {
    /// The workflow YAML of the repository, submitted exactly as written.
    public var workflowFile: String?
    /// The pool to submit to; without it, the pool whose free GPUs fit the request.
    public var pool: String?
    /// The GPU type to match when choosing a pool (`H100`, `L40S`).
    public var gpuType: String?
    /// `--set k=v` values for the workflow's template variables.
    public var set: [String: String]?
    /// The `--set` key that receives the run's memory (`32Gi`), so a memory fix is a resubmission.
    public var memoryKey: String?
    /// The image the rendered workflow runs the command in, when there is no `workflow_file`.
    public var image: String?
    public var execPrefix: [String]?
    public var env: [String: String]?
    /// Seconds to wait before each retry of a call OSMO rate-limited (exit 75); `[]` retries none.
    public var rateLimitBackoff: [Double]?
    public static let defaultBackoff: [Double] = [2, 5, 10]
}

extension OSMOBackend {
    public static let entry = BackendEntry(name: "osmo", settings: OSMOSettings.self) { s, context in
        OSMOBackend(settings: s, runner: context.runner, runsDir: context.runsDir, templates: context.templates)
    }
}
