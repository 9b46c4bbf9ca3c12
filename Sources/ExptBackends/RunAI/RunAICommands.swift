import Foundation
import ExptModel

/// The Run:ai CLI v2 calls expt makes, in one place (the fake `runai` of the end-to-end tests
/// accepts exactly these). Flags: run-ai/docs `docs/Researcher/cli-reference/new-cli/`
/// `runai_training_submit.md` @ 090b17d7 (`-p`, `-i`, `--cpu-core-request`, `--cpu-memory-request`,
/// `-g/--gpu-devices-request`, `-e/--environment`, `--label`, `--working-dir`, `--backoff-limit`,
/// `--image-pull-policy`, `-c/--command` then `--`), `runai_training_list.md` @ 2fcbf6d1 (`--json`),
/// `runai_training_describe.md` @ 2776e72e (`-o json`), `runai_training_logs.md` @ 0b841790
/// (`--tail`, `--previous`), `runai_training_delete.md` @ 2776e72e. `--priority CLASS` is named by
/// Run:ai's priority docs (self-hosted 2.21, "CLI: using the --priority flag") but is not in that
/// submit page: unverified, and only passed when a priority class is asked for.
public enum RunAICommands {
    /// What the `[runai]` settings give a submission.
    public struct Submission: Sendable, Equatable {
        public var project: String
        public var image: String
        /// `--priority CLASS`: see `priorityClass(preemptible:)`; nil passes none (a training's
        /// default is Run:ai's preemptible `train`).
        public var priorityClass: String?
        public var workingDir: String?
        public var labels: [String: String]
        public var backoffLimit: Int?
        public var imagePullPolicy: String?
        public init(project: String, image: String, priorityClass: String? = nil, workingDir: String? = nil,
                    labels: [String: String] = [:], backoffLimit: Int? = nil, imagePullPolicy: String? = nil) {
            self.project = project; self.image = image; self.priorityClass = priorityClass; self.workingDir = workingDir
            self.labels = labels; self.backoffLimit = backoffLimit; self.imagePullPolicy = imagePullPolicy
        }
    }

    /// The priority class for `preemptible`: `train` (50, preemptible: may use GPUs over the
    /// project's quota, may be preempted) or `build` (100, non-preemptible: within the deserved
    /// quota, never preempted). Run:ai treats classes of 100 and more as non-preemptible (GWAS
    /// cluster notes, talmolab/sleap-roots-pipeline `.claude/skills/runai/SKILL.md`; KAI-Scheduler).
    /// Cluster admins may name them differently: `[runai] priority_class` overrides.
    public static func priorityClass(preemptible: Bool) -> String { preemptible ? "train" : "build" }

    /// A run's workload name: lowercase letters, digits and '-', starting with a letter, at most 40.
    public static func workloadName(runID: String, branch: String) -> String {
        String(KubeJobManifest.jobPrefix(runID: runID, branch: branch).dropLast())
    }

    /// `runai training submit NAME -p P -i IMAGE [resources] [-e K=V]… [--label k=v]… --command -- bash -c CMD`.
    /// `item` sets `EXPT_ITEM` (a workload per item).
    public static func submit(name: String, spec: JobSpec, _ s: Submission, item: Int? = nil) throws -> [String] {
        guard !s.project.isEmpty else { throw ExptError(.invalidInput, "[runai] names no project", hint: "set project = \"<your Run:ai project>\" (`runai project list`)") }
        guard !s.image.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ExptError(.invalidInput, "[runai] names no image to run the command in", hint: "set image = \"<registry>/<image>:<tag>\"")
        }
        guard !spec.command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ExptError(.invalidInput, "the run has no command to run in the workload", hint: "set command in expt.toml")
        }
        var argv = ["runai", "training", "submit", name, "-p", s.project, "-i", s.image]
        let r = spec.resources
        if let c = r.cpus, c > 0 { argv += ["--cpu-core-request", String(c)] }
        if let mb = r.memoryMB, mb > 0 { argv += ["--cpu-memory-request", Units.memoryString(mb)] }
        if let g = r.gpus, g > 0 { argv += ["--gpu-devices-request", String(g)] }
        if let p = s.priorityClass, !p.isEmpty { argv += ["--priority", p] }
        if let d = s.workingDir, !d.isEmpty { argv += ["--working-dir", d] }
        if let p = s.imagePullPolicy, !p.isEmpty { argv += ["--image-pull-policy", p] }
        if let b = s.backoffLimit { argv += ["--backoff-limit", String(b)] }
        var env = spec.environment
        env["EXPT_RUN_ID"] = spec.runID
        env["EXPT_BRANCH"] = spec.branch
        if let item { env["EXPT_ITEM"] = String(item) }
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { argv += ["-e", "\(k)=\(v)"] }
        var labels = s.labels
        labels[KubeJobManifest.runLabel] = spec.runID
        labels[KubeJobManifest.branchLabel] = ClusterNames.labelValue(spec.branch)
        for (k, v) in labels.sorted(by: { $0.key < $1.key }) { argv += ["--label", "\(k)=\(v)"] }
        return argv + ["--command", "--", "bash", "-c", spec.command]
    }

    public static func list(project: String) -> [String] { ["runai", "training", "list", "-p", project, "--json"] }
    public static func describe(name: String, project: String) -> [String] { ["runai", "training", "describe", name, "-p", project, "-o", "json"] }
    public static func delete(name: String, project: String) -> [String] { ["runai", "training", "delete", name, "-p", project] }
    public static func logs(name: String, project: String, tail: Int? = nil, previous: Bool = false) -> [String] {
        ["runai", "training", "logs", name, "-p", project] + (tail.map { ["--tail", String($0)] } ?? []) + (previous ? ["--previous"] : [])
    }
}

/// runai's failures in words that say what to do. No real error output of the v2 CLI is public,
/// so the texts are matched loosely (docs/backends/runai.md, "Errors").
enum RunAICLI {
    static func check(_ r: ProcessResult, _ argv: [String], project: String?) throws -> ProcessResult {
        guard r.status != 0 else { return r }
        let text = (r.stderr + "\n" + r.stdout).split(separator: "\n").filter { !($0.contains("wsl:") && $0.contains("fstab")) }
            .suffix(8).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let lower = text.lowercased()
        let command = "`\(ShellQuote.join(argv))`"
        if r.status == 127 {
            throw ExptError(.external, "runai is not installed or not on PATH where \(command) ran",
                            hint: "install the Run:ai CLI (v2) there, or set [runai] exec_prefix to reach a host that has it")
        }
        let auth = ["not logged in", "please login", "please log in", "runai login", "unauthorized", "401", "token is expired",
                    "token has expired", "expired token", "not authenticated", "authentication required"]
        if auth.contains(where: { lower.contains($0) }) {
            throw ExptError(.external, "runai is not logged in (\(command)): \(text)",
                            hint: "log in where runai runs: `runai login` (or `runai login remote-browser`), check with `runai whoami`; "
                                + "the kubeconfig alone is not enough")
        }
        let missing = ["not found", "does not exist", "doesn't exist"].contains { lower.contains($0) }
        if lower.contains("workload"), missing {
            throw ExptError(.notFound, "Run:ai has no such workload (\(command)): \(text)", hint: "`runai training list -p \(project ?? "?")` lists the project's workloads")
        }
        if lower.contains("project"), missing || lower.contains("no such project") || lower.contains("unknown project") {
            throw ExptError(.notFound, "Run:ai knows no project '\(project ?? "?")' (\(command)): \(text)",
                            hint: "`runai project list` shows yours; set [runai] project to one of them")
        }
        if lower.contains("forbidden") || lower.contains("permission denied") || lower.contains("403") {
            throw ExptError(.external, "Run:ai refused \(command): \(text)", hint: "your Run:ai role may not do this in project \(project ?? "?")")
        }
        if lower.contains("not found") || lower.contains("does not exist") {
            throw ExptError(.notFound, "\(command) found nothing: \(text)")
        }
        throw ExptError(.external, "\(command) failed (exit \(r.status)): \(text)")
    }
}
