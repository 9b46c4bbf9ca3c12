import Foundation
import ExptModel

/// The `[argo]` table of expt.toml (docs/backends/argo.md); every key is optional.
public struct ArgoSettings: Decodable, Sendable, Equatable {
    /// The namespace of the workflows (`-n`); default "default".
    public var namespace: String?
    /// The WorkflowTemplate submitted with `--from workflowtemplate/NAME`.
    public var workflowTemplate: String?
    /// Or a workflow file of the repository, submitted as it is (relative to the worktree).
    public var workflowFile: String?
    /// A WorkflowTemplate per resource profile for a whole launch (`highmem = "gapit3-gwas-highmem"`).
    public var profileTemplates: [String: String]?
    /// The item's WorkflowTemplate per resource profile in a relaunch over some items
    /// (`highmem = "gapit3-gwas-single-trait-highmem"`: the template part of `item_template` stays).
    public var profileItemTemplates: [String: String]?
    /// Workflow parameters passed with `-p` on every submission.
    public var parameters: [String: String]?
    /// Extra labels (`-l`); `expt.run` and `expt.branch` are always set.
    public var labels: [String: String]?
    /// The workflow parameter that receives the items as a JSON list (`[2,5,9]`), for templates
    /// that fan out with `withParam`; unset, a relaunch over some items uses `item_template`.
    public var itemParameter: String?
    /// The node input parameter that carries one item's index (else it is read from the
    /// task's display name, `run-all-traits(3:5)` → 5).
    public var itemInput: String?
    /// The workflow parameter that receives the memory request (`96Gi`), for templates that
    /// read it through `podSpecPatch`.
    public var memoryParameter: String?
    /// The aggregation task that runs after the items (its state is shown beside them), and in
    /// a relaunch over some items, the task added after them.
    public var aggregateStep: String?
    /// The template of one item, `NAME/TEMPLATE` of a WorkflowTemplate (the one the pipeline's
    /// fan-out uses): a relaunch over some items submits a new workflow with one task per item
    /// (what the GWAS pipeline's retry script generates), since `argo retry` cannot narrow.
    public var itemTemplate: String?
    /// The arguments of one item's task, `{item}` replaced; default `{ <item_input> = "{item}" }`.
    public var itemArguments: [String: String]?
    /// The aggregation task of a relaunch, `NAME/TEMPLATE`, depending on every item.
    public var aggregateTemplate: String?
    /// Its arguments, passed as written (Argo expands `{{workflow.name}}`, `{{workflow.parameters.x}}`).
    public var aggregateArguments: [String: String]?
    /// How long a pod may wait in Pending / PodInitializing / ContainerCreating before its item
    /// counts as stuck; default "10m".
    public var stuckAfter: String?
    /// Prepended to every argo/kubectl command (`["wsl", "-e", "bash", "-c"]`, `["ssh", "login1"]`).
    public var execPrefix: [String]?
    /// Environment for the CLIs (`KUBECONFIG`), exported inside the exec prefix's string.
    public var env: [String: String]?
}

extension ArgoBackend {
    public static let entry = BackendEntry(name: "argo", settings: ArgoSettings.self) { s, context in
        if let t = s.stuckAfter, Units.seconds(t) == nil {
            throw ExptError(.invalidInput, "[argo] stuck_after '\(t)' is not a duration like 10m or 00:10:00")
        }
        return ArgoBackend(settings: s, runner: context.runner, runsDir: context.runsDir)
    }
}



/// Running argo and kubectl: their failures in words that say what to do.
enum ArgoCLI {
    static func check(_ r: ProcessResult, _ argv: [String], hint: String? = nil) throws -> ProcessResult {
        guard r.status != 0 else { return r }
        // WSL prints a harmless /etc/fstab warning on every start.
        let stderr = r.stderr.split(separator: "\n").filter { !($0.contains("wsl:") && $0.contains("fstab")) }
            .suffix(8).joined(separator: "\n")
        let command = "`\(ShellQuote.join(argv))`"
        let tool = argv.first ?? "argo"
        if r.status == 127 { throw ExptError(.external, "\(tool) is not installed or not on PATH where \(command) ran",
                                             hint: "install the \(tool) CLI there, or set [argo] exec_prefix to reach a host that has it") }
        // kubectl without a kubeconfig falls back to localhost:8080; argo says it outright.
        if stderr.contains("no configuration has been provided") || stderr.contains("invalid configuration: no configuration")
            || stderr.contains("localhost:8080 was refused") {
            throw ExptError(.external, "\(tool) has no cluster configuration: \(stderr)",
                            hint: "set KUBECONFIG: [argo] env = { KUBECONFIG = \"/path/to/kubeconfig\" }")
        }
        if stderr.contains("Unable to connect to the server") || stderr.contains("connection refused") || stderr.contains("i/o timeout")
            || stderr.contains("no such host") {
            throw ExptError(.external, "the cluster cannot be reached (\(command)): \(stderr)", hint: "check the VPN or network, and the kubeconfig's server")
        }
        if stderr.contains("PermissionDenied") || stderr.contains("forbidden") {
            throw ExptError(.external, "the cluster refused \(command): \(stderr)",
                            hint: "your account (or its service account) lacks permission in namespace \(argv.firstIndex(of: "-n").map { argv[$0 + 1] } ?? "?")")
        }
        if stderr.contains("NotFound") || stderr.contains("not found") {
            throw ExptError(.notFound, "\(command) found nothing: \(stderr)", hint: hint)
        }
        throw ExptError(.external, "\(command) failed (exit \(r.status)): \(stderr)", hint: hint)
    }
}

extension ArgoNames {
    /// `--generate-name` for a run: lowercase DNS-1123, short enough that pod names stay valid.
    static func workflowPrefix(runID: String, branch: String) -> String {
        "expt-\(runID.lowercased())-" + String(ClusterNames.labelValue(branch).lowercased().prefix(24)).trimmingCharacters(in: CharacterSet(charactersIn: "-.")) + "-"
    }

}
