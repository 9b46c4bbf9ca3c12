import Foundation
import ExptModel
import ExptTemplates

/// The workflow expt writes when `[osmo]` names no `workflow_file`: `templates/osmo-workflow.yaml`
/// (or the repository's `.expt/templates/` copy) rendered with the run's command, image,
/// resources, time limit and environment. One task, `main`, runs the command with `bash -c`.
enum OSMOTemplate {
    /// OSMO's workflow names (src/lib/utils/common.py `WFID_REGEX` without the `-<N>`): a
    /// letter, then letters, digits, `_` and `-`, not ending in `_` or `-`.
    static func workflowName(_ jobName: String) -> String {
        var name = String(jobName.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "-" })
        while let last = name.last, last == "-" || last == "_" { name.removeLast() }
        if !(name.first?.isLetter ?? false) { name = "expt-" + name }
        return name
    }

    /// The rendered YAML, and the values a relaunch compares to decide whether a restart would
    /// run the same thing.
    static func render(_ template: String, spec: JobSpec, image: String?) throws -> (yaml: String, values: [String: String]) {
        guard let image, !image.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ExptError(.invalidInput, "[osmo] has neither workflow_file nor image: expt needs one to build the workflow",
                            hint: "set workflow_file = \"workflows/train.yaml\" (your OSMO workflow), or image = \"nvcr.io/nvidia/pytorch:24.03-py3\" to run expt.toml's command in it")
        }
        guard !spec.command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ExptError(.invalidInput, "the run has no command to put in the OSMO workflow", hint: "set command in expt.toml, or use [osmo] workflow_file")
        }
        var env = spec.environment
        env["EXPT_RUN_ID"] = spec.runID
        env["EXPT_BRANCH"] = spec.branch
        // OSMO renders the file with Jinja before reading it: a `{{`, `{%` or `{#` in a value
        // would be substituted or break the file, so such a value is refused, not mangled.
        for (what, value) in [("the command", spec.command), ("image", image)] + env.map({ ("env \($0.key)", $0.value) }) {
            if ["{{", "{%", "{#"].contains(where: value.contains) {
                throw ExptError(.invalidInput, "\(what) contains '{{', '{%' or '{#', which OSMO's Jinja templating would substitute",
                                hint: "write an [osmo] workflow_file for this run (escape it there as {{ '{{' }}), or remove the braces")
            }
        }
        let r = spec.resources
        var values: [String: String] = [
            "run_id": spec.runID, "branch": spec.branch, "job_name": workflowName(spec.jobName),
            "image": json(image), "script": json(spec.command),
        ]
        if let c = r.cpus { values["cpus"] = String(c) }
        if let g = r.gpus { values["gpus"] = String(g) }
        if let mb = r.memoryMB { values["memory"] = ClusterNames.quantity(megabytes: mb) }
        if values["cpus"] != nil || values["gpus"] != nil || values["memory"] != nil { values["resources"] = "" }
        if let t = r.timeLimitSeconds { values["exec_timeout"] = "\(t)s" }
        if !env.isEmpty, let data = try? JSONSerialization.data(withJSONObject: env, options: [.sortedKeys, .withoutEscapingSlashes]) {
            values["environment"] = String(decoding: data, as: UTF8.self)
        }
        var compared = values
        compared["run_id"] = nil; compared["job_name"] = nil
        compared["environment"] = env.filter { $0.key != "EXPT_RUN_ID" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        return (TemplateRenderer.renderDroppingLines(template, values), compared)
    }

    /// A JSON string literal: a YAML flow scalar that reads back as exactly `s`.
    static func json(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
