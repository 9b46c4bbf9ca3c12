/// The files of `templates/` (this target's folder), compiled into the binary by SwiftPM's
/// `.embedInCode` resources (Package.swift), so an installed `expt` needs no resource bundle.
///
/// SwiftPM generates `struct PackageResources` with one `static let <id>: [UInt8]` per embedded
/// file. `<id>` is the file's *basename* mangled to a C99 identifier: every character other than
/// A-Z, a-z, 0-9 and `_` becomes `_`, and a leading digit gets a `_` in front
/// (swift-package-manager 6.3.1, Sources/LLBuildManifest/LLBuildManifest.swift,
/// `EmbeddedResources.getFileContents`: `resourcePath.basename.spm_mangledToC99ExtendedIdentifier()`;
/// the mangling is swift-tools-support-core, Sources/TSCUtility/StringMangling.swift). The folder
/// is dropped, so `hooks/pre-commit` is `pre_commit`, and two files with one basename would
/// clash (SwiftPM reports that as a conflicting resource). Nothing enumerates the statics at run
/// time, hence the table below; TemplateRendererTests checks it against the folder.
public enum EmbeddedTemplates {
    /// The text of `templates/<name>` (e.g. `expt.toml`, `hooks/pre-commit`), or nil.
    public static func text(_ name: String) -> String? {
        files[name].map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every embedded template name, sorted.
    public static var names: [String] { files.keys.sorted() }

    /// Name (path under templates/) to bytes. A new template needs a line here and a resource
    /// in Package.swift (SwiftPM warns about a file that is neither).
    static let files: [String: [UInt8]] = [
        "agent-skill.md": PackageResources.agent_skill_md,
        "branch-doc.md": PackageResources.branch_doc_md,
        "expt.toml": PackageResources.expt_toml,
        "pr-comment.md": PackageResources.pr_comment_md,
        "rules.toml": PackageResources.rules_toml,
        "slurm.sbatch": PackageResources.slurm_sbatch,
        "k8s-job.json": PackageResources.k8s_job_json,
        "osmo-workflow.yaml": PackageResources.osmo_workflow_yaml,
        "wandb-helper.py": PackageResources.wandb_helper_py,
        "rules-schedulers.toml": PackageResources.rules_schedulers_toml,
        "rules-frameworks.toml": PackageResources.rules_frameworks_toml,
        "hooks/commit-msg": PackageResources.commit_msg,
        "hooks/pre-commit": PackageResources.pre_commit,
    ]
}
