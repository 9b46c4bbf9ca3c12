import ArgumentParser
import ExptCore
import ExptModel

/// Resource flags shared by launch and fix-and-relaunch.
struct ResourceOptions: ParsableArguments {
    @Option(help: "Memory limit for this run, e.g. 8G.") var mem: String?
    @Option(help: "Time limit for this run, e.g. 02:00:00 or 90m.") var time: String?
    @Option(help: "CPU cores.") var cpus: Int?
    @Option(help: "GPUs.") var gpus: Int?

    func resources() throws -> Resources {
        // The same ranges as expt.toml's [resources] (ExptConfig.checkCounts).
        if let cpus, !(1...4096).contains(cpus) { throw ValidationError("--cpus must be a whole number from 1 to 4096, found \(cpus)") }
        if let gpus, !(0...1024).contains(gpus) { throw ValidationError("--gpus must be a whole number from 0 to 1024, found \(gpus)") }
        var r = Resources(cpus: cpus, gpus: gpus)
        if let mem {
            guard let mb = Units.megabytes(mem) else { throw ValidationError("--mem " + Units.sizeProblem(mem)) }
            r.memoryMB = mb
        }
        if let time {
            guard let s = Units.seconds(time) else { throw ValidationError("--time '\(time)' is not a time like 02:00:00 or 90m") }
            r.timeLimitSeconds = s
        }
        return r
    }
}

struct LaunchCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Run the experiment's job at its worktree's committed HEAD through a backend.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(help: "The backend (default: expt.toml's backend).") var backend: String?
    @Option(help: "A resource profile from expt.toml, e.g. highmem.") var profile: String?
    @OptionGroup var resources: ResourceOptions
    @Flag(help: "Print exactly what would be submitted; change nothing.") var dryRun = false
    @Flag(help: "Launch even with uncommitted changes in the worktree.") var allowDirty = false
    @Flag(help: "Launch even while another run of this branch is pending or running.") var allowConcurrent = false
    @Option(help: "An array job (sweep): task indices like 0-99%10 (at most 10 at once).") var array: String?

    func validate() throws {
        if let array, ArraySpec.parse(array) == nil { throw ValidationError("--array " + ArraySpec.problem(array)) }
    }

    func run(in env: ExptEnvironment) throws {
        var req = LaunchRequest(branch: branch)
        req.backend = backend; req.profile = profile; req.overrides = try resources.resources()
        req.dryRun = dryRun; req.allowDirty = allowDirty; req.allowConcurrent = allowConcurrent
        req.array = array.flatMap(ArraySpec.parse)
        let r = try env.serviceDeliveringOutbox(global).launch(req)
        try env.console.emit(r, json: global.json) { LaunchCommand.describe(r) }
    }

    static func describe(_ r: LaunchResult) -> String {
        let res = r.spec.resources
        let limits = [res.memoryMB.map { "mem \(Units.memoryString($0))" }, res.timeLimitSeconds.map { "time \(Units.durationString($0))" },
                      res.cpus.map { "cpus \($0)" }, res.gpus.flatMap { $0 > 0 ? "gpus \($0)" : nil }].compactMap { $0 }
        if r.dryRun {
            return """
            would launch \(r.spec.branch) at \(r.commit.prefix(8)) on \(r.backend)
              command:   \(r.spec.command)
              workdir:   \(r.spec.workdir)
              resources: \(limits.joined(separator: ", "))\(r.spec.array.map { "\n  array:     \($0.indices.count) task(s)\($0.maxConcurrent.map { ", at most \($0) at once" } ?? "")" } ?? "")
              env:       \(r.spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
              config:    \(r.config.joined(separator: ", "))
            nothing was submitted (--dry-run)
            """
        }
        return """
        launched \(r.run ?? "?") (job \(r.jobId ?? "?") on \(r.backend)) for \(r.spec.branch) at \(r.commit.prefix(8))
          command: \(r.spec.command)
          limits:  \(limits.joined(separator: ", "))
          logs:    \(r.logDir ?? "?")
        """ + r.notes.map { "\n  \($0)" }.joined()
    }
}
