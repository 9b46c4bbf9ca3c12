import Foundation
import ExptModel
import ExptTemplates

/// Renders the batch script for a `JobSpec` from the `slurm.sbatch` template.
///
/// The template language is deliberately tiny (a full template engine would be a dependency
/// for ~20 lines): `{{name}}` is replaced by its value; a line using a name without a value is
/// dropped, which is how optional directives (`--partition`, `--gres`, ...) disappear; a line
/// starting with `{{?name}}` is kept (without the marker) only when `name` has a value.
public enum SlurmScript {
    /// Name of the embedded template.
    public static let templateName = "slurm.sbatch"

    /// The full script for `spec`: from the repo's override when the caller passed one
    /// (`config.scriptTemplate`, read with `Templates.text`), else the shipped template.
    public static func render(_ spec: JobSpec, config: SlurmConfig) throws -> String {
        let template = try config.scriptTemplate ?? Templates(repoRoot: nil).text(templateName)
        return try TemplateRenderer.render(template, try values(for: spec, config: config),
                                           missing: .dropLine, templateName: templateName)
    }

    /// Where the job's stdout goes; `task` picks one array task's file.
    public static func stdoutPath(_ spec: JobSpec, task: Int? = nil) -> String {
        logPath(spec, stem: "stdout", task: task)
    }

    /// Where the job's stderr goes; `task` picks one array task's file.
    public static func stderrPath(_ spec: JobSpec, task: Int? = nil) -> String {
        logPath(spec, stem: "stderr", task: task)
    }

    /// The script's own path: kept next to the logs so a user can see what was submitted.
    public static func scriptPath(_ spec: JobSpec) -> String { join(spec.logDir, "job.sbatch") }

    static func logPath(_ spec: JobSpec, stem: String, task: Int?) -> String {
        guard spec.array != nil else { return join(spec.logDir, "\(stem).log") }
        return join(spec.logDir, "\(stem).\(task.map(String.init) ?? "%a").log")
    }

    static func join(_ dir: String, _ file: String) -> String {
        dir.hasSuffix("/") ? dir + file : dir + "/" + file
    }

    /// The template values for `spec`; absent keys drop their lines.
    public static func values(for spec: JobSpec, config: SlurmConfig) throws -> [String: String] {
        let r = spec.resources
        var v: [String: String] = [
            "run_id": spec.runID, "branch": spec.branch,
            "run_id_quoted": ShellQuote.quote(spec.runID), "branch_quoted": ShellQuote.quote(spec.branch),
            "job_name": try directive(spec.jobName, "job name"),
            "workdir": try directive(spec.workdir, "workdir"),
            // `%` starts a Slurm filename pattern (%j, %a): a literal one is written `%%`
            "stdout_path": try directive(escapePercent(spec.logDir, then: stdoutPath(spec)), "log dir"),
            "stderr_path": try directive(escapePercent(spec.logDir, then: stderrPath(spec)), "log dir"),
            "command_quoted": ShellQuote.quote(spec.command),
        ]
        if let p = r.partition ?? config.partition { v["partition"] = try directive(p, "partition") }
        if let a = r.account ?? config.account { v["account"] = try directive(a, "account") }
        if let q = r.qos ?? config.qos { v["qos"] = try directive(q, "qos") }
        if let m = r.memoryMB { v["mem"] = "\(try positive(m, "memory"))M" }
        if let c = r.cpus { v["cpus"] = "\(try positive(c, "cpus"))" }
        if let g = r.gpus, g > 0 { v["gpus"] = "\(g)" }
        if let t = r.timeLimitSeconds { v["time"] = SlurmValues.timeLimit(try positive(t, "time limit")) }
        if let s = config.signalSecondsBeforeLimit { v["signal_seconds"] = "\(try positive(s, "signal_before_limit"))" }
        if config.requeue { v["requeue"] = "" }
        if let array = spec.array {
            guard !array.indices.isEmpty, array.indices.allSatisfy({ $0 >= 0 }) else {
                throw ExptError(.invalidInput, "an array job needs at least one task index, none negative")
            }
            v["array"] = SlurmValues.indexList(array.indices)
                + (array.maxConcurrent.map { "%\($0)" } ?? "")
        }
        let exports = try spec.environment.keys.sorted().map { key -> String in
            guard isIdentifier(key) else {
                throw ExptError(.invalidInput, "'\(key)' is not a valid environment variable name",
                                hint: "use letters, digits and _ only, not starting with a digit")
            }
            return "export \(key)=\(ShellQuote.quote(spec.environment[key]!))"
        }
        if !exports.isEmpty { v["exports"] = exports.joined(separator: "\n") }
        return v
    }

    /// Fills `template` with `values` by the rules above (TemplateRenderer's `.dropLine`).
    public static func render(template: String, values: [String: String]) -> String {
        TemplateRenderer.renderDroppingLines(template, values)
    }

    /// A value for an `#SBATCH` line: sbatch splits those lines on blanks but honours double
    /// quotes, so a value with blanks is double-quoted; quotes and newlines cannot be expressed.
    static func directive(_ value: String, _ what: String) throws -> String {
        guard !value.contains("\""), !value.contains("\n"), !value.isEmpty else {
            throw ExptError(.invalidInput, "the \(what) '\(value)' cannot be written in a Slurm batch script",
                            hint: "avoid double quotes and newlines")
        }
        return value.contains(where: \.isWhitespace) ? "\"\(value)\"" : value
    }

    static func escapePercent(_ dir: String, then path: String) -> String {
        dir.replacingOccurrences(of: "%", with: "%%") + path.dropFirst(dir.count)
    }

    static func positive(_ n: Int, _ what: String) throws -> Int {
        guard n > 0 else { throw ExptError(.invalidInput, "the \(what) must be positive, got \(n)") }
        return n
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
