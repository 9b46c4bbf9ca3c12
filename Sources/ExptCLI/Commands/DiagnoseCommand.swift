import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ExptCore
import ExptModel
import ExptDiagnosis

struct DiagnoseCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Name a run's failure: category, evidence lines, resumability and a remedy.",
        discussion: """
        With a branch: the branch's latest run (or --run) from the ledger, its logs and scheduler \
        state. With --log: any log files, outside any repository.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The experiment branch.") var branch: String?
    @Option(name: .customLong("run"), help: "The run id (default: the latest run).") var runID: String?
    @Option(name: .customLong("log"), help: "A log file to diagnose (repeatable).") var logs: [String] = []
    @Option(help: "With --log: a W&B run directory (or wandb/).") var wandb: String?
    @Option(help: "With --log: the scheduler state (e.g. OUT_OF_MEMORY, TIMEOUT, failed).") var state: String?
    @Option(help: "With --log: the exit code.") var exitCode: Int32?
    @Option(help: "With --log: an extra rules file (default: .expt/rules.toml when in a repo).") var rules: String?
    @Flag(help: "Show every rule that fired and why the winner won.") var explain = false

    /// The diagnosis's keys, plus `batch` (null for a single job).
    struct Output: Encodable {
        var diagnosis: Diagnosis
        var batch: BatchHealthReport?
        enum Keys: String, CodingKey { case batch }
        func encode(to encoder: Encoder) throws {
            try diagnosis.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(batch, forKey: .batch)
        }
    }

    func validate() throws {
        if branch == nil && logs.isEmpty && wandb == nil {
            throw ValidationError("name a branch, or give --log <file> (and/or --wandb <dir>)")
        }
        if branch != nil && (!logs.isEmpty || wandb != nil) {
            throw ValidationError("give either a branch or --log/--wandb, not both")
        }
    }

    func run(in env: ExptEnvironment) throws {
        var diagnosis: Diagnosis
        var batch: BatchHealthReport?
        if let branch {
            let service = try env.service(global)
            let r = try service.diagnose(branch: branch, run: runID)
            diagnosis = r.diagnosis
            batch = r.batch
        } else {
            diagnosis = try diagnoseFiles(env)
        }
        if global.json {
            env.console.out(try JSONOutput.encode(Output(diagnosis: diagnosis, batch: batch)))
        } else {
            env.console.writeOut(diagnosis.render(explain: explain))
            if let batch { env.console.out(BatchHealthText.render(batch)) }
        }
    }

    func diagnoseFiles(_ env: ExptEnvironment) throws -> Diagnosis {
        for path in logs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw ExptError(.notFound, "no such log file: \(path)")
            }
            if isDir.boolValue {
                throw ExptError(.invalidInput, "\(path) is a directory, not a log file",
                                hint: "for a W&B run directory use --wandb \(path)")
            }
            // A FIFO would block the read forever, a device never end (R26): regular files only
            // (a symlink to one is fine).
            var st = stat()
            if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                let kind = (st.st_mode & S_IFMT) == S_IFIFO ? "a FIFO" : (st.st_mode & S_IFMT) == S_IFSOCK ? "a socket" : "a device"
                throw ExptError(.invalidInput, "\(path) is \(kind), not a log file", hint: "save the output to a file first, then pass that file")
            }
        }
        var set = try RuleSet.builtin()
        let repoRules = (try? env.workspace(global)).map { $0.root + "/.expt/rules.toml" }
        for file in [repoRules, rules].compactMap({ $0 }) {
            if file == rules && !FileManager.default.fileExists(atPath: file) {
                throw ExptError(.notFound, "no such rules file: \(file)")
            }
            set = try RuleSet.load(overridesAt: file, base: set)
        }
        let inputs = logs.map { LogInput(label: $0, path: $0) }
        let facts = (state != nil || exitCode != nil) ? SchedulerFacts(state: state, exitCode: exitCode) : nil
        return try Diagnoser(rules: set).diagnose(DiagnosisInput(logs: inputs, wandbDir: wandb, scheduler: facts))
    }
}
