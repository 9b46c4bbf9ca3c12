import Foundation
import ExptTOML

/// The retry budget and escalation factors of fix-and-relaunch.
public struct RetryPolicy: Codable, Sendable, Equatable {
    public var maxFailures = 3
    public var maxPreemptions = 10
    public var memoryFactor = 1.5
    public var memoryCapMB = 65536
    public var timeFactor = 1.5
    public init() {}
}

/// Facts about the run that sharpen diagnosis (all optional).
public struct RunFactsConfig: Codable, Sendable, Equatable {
    public var batchSize: Int?
    public var gradAccumulation: Int?
    public var expectedSteps: Int?
    public var expectedEpochs: Int?
    public init() {}
}

/// Sweep health bands (fractions of tasks).
public struct HealthBandsConfig: Codable, Sendable, Equatable {
    public var degraded = 0.10
    public var systemic = 0.15
    public init() {}
}

/// The `[slurm]` table.
public struct SlurmSettings: Codable, Sendable, Equatable {
    public var partition: String?
    public var account: String?
    public var qos: String?
    public var execPrefix: [String] = []
    public var signalBeforeLimit: Int?
    public var requeue: Bool?
    public var extraArgs: [String] = []
    public init() {}
}

/// The effective configuration of one experiment: the repository's `expt.toml`, overridden
/// key by key by the `expt.toml` committed in the experiment's worktree.
public struct ExptConfig: Codable, Sendable, Equatable {
    public static let backends = ["local", "slurm"]

    public var command: String?
    public var resumeCommand: String?
    public var checkpointGlob: String?
    public var wandbDir: String?
    public var backend = "local"
    public var base: String?
    /// An array job (sweep): the task indices, e.g. "0-99%10".
    public var array: ArraySpec?
    public var env: [String: String] = [:]
    public var resources = Resources()
    public var profiles: [String: Resources] = [:]
    public var retry = RetryPolicy()
    public var run = RunFactsConfig()
    public var health = HealthBandsConfig()
    public var slurm = SlurmSettings()
    /// The files read, in order (later ones win).
    public var sources: [String] = []

    public init() {}

    /// Loads `<repoRoot>/expt.toml`, then `<worktree>/expt.toml` when it is a different file.
    /// A missing root file is an error that says how to create it.
    public static func load(repoRoot: String, worktree: String?) throws -> ExptConfig {
        let rootFile = repoRoot + "/expt.toml"
        var files: [String] = []
        if FileManager.default.fileExists(atPath: rootFile) { files.append(rootFile) }
        if let wt = worktree, wt != repoRoot, FileManager.default.fileExists(atPath: wt + "/expt.toml") {
            files.append(wt + "/expt.toml")
        }
        guard !files.isEmpty else {
            throw ExptError(.notFound, "no expt.toml in \(repoRoot)\(worktree.map { " or \($0)" } ?? "")",
                            hint: "run `expt init` to create one, then set `command` in it")
        }
        var config = ExptConfig()
        for f in files {
            let text: String
            do { text = try String(contentsOfFile: f, encoding: .utf8) } catch {
                throw ExptError(.invalidInput, "cannot read \(f): \(error.localizedDescription)")
            }
            try config.apply(text: text, file: f)
        }
        return config
    }

    /// Like `load`, but no expt.toml at all means the defaults. A file that exists and is
    /// invalid is still an error: silently using the defaults instead (another backend, no
    /// exec prefix) would poll or diagnose the wrong way.
    public static func loadIfPresent(repoRoot: String, worktree: String?) throws -> ExptConfig {
        let candidates = [repoRoot] + (worktree.map { [$0] } ?? [])
        guard candidates.contains(where: { FileManager.default.fileExists(atPath: $0 + "/expt.toml") }) else { return ExptConfig() }
        return try load(repoRoot: repoRoot, worktree: worktree)
    }

    /// Applies one file's keys over this configuration.
    public mutating func apply(text: String, file: String) throws {
        do {
            let t = try TOML.parse(text, file: file)
            try apply(t)
            sources.append(file)
        } catch let e as TOMLError {
            throw ExptError(.invalidInput, "invalid configuration: \(e.description)",
                            hint: "fix \(e.file ?? file) at line \(e.line); templates/expt.toml documents every key")
        }
    }

    mutating func apply(_ t: TOMLTable) throws {
        try t.checkKeys(allowed: ["command", "resume_command", "checkpoint_glob", "wandb_dir", "backend", "base", "array",
                                  "env", "resources", "profiles", "retry", "run", "health", "slurm"])
        command = try t.string("command") ?? command
        resumeCommand = try t.string("resume_command") ?? resumeCommand
        checkpointGlob = try t.string("checkpoint_glob") ?? checkpointGlob
        wandbDir = try t.string("wandb_dir") ?? wandbDir
        base = try t.string("base") ?? base
        if let a = try t.string("array") {
            guard let spec = ArraySpec.parse(a) else { throw t.error("'\(a)' is not an array range like 0-9 or 0-99%10", key: "array") }
            array = spec
        }
        if let b = try t.string("backend") {
            guard ExptConfig.backends.contains(b) else {
                throw t.error("unknown backend '\(b)' (known: \(ExptConfig.backends.joined(separator: ", ")))", key: "backend")
            }
            backend = b
        }
        if let e = try t.stringTable("env") { env.merge(e) { _, new in new } }
        if let r = try t.table("resources") { resources = resources.overridden(by: try ExptConfig.resources(r)) }
        if let p = try t.table("profiles") {
            for name in p.keys {
                guard let pt = try p.table(name) else { continue }
                profiles[name] = (profiles[name] ?? Resources()).overridden(by: try ExptConfig.resources(pt))
            }
        }
        if let r = try t.table("retry") {
            try r.checkKeys(allowed: ["max_failures", "max_preemptions", "memory_factor", "memory_cap", "time_factor"])
            retry.maxFailures = try r.int("max_failures") ?? retry.maxFailures
            retry.maxPreemptions = try r.int("max_preemptions") ?? retry.maxPreemptions
            retry.memoryFactor = try r.double("memory_factor") ?? retry.memoryFactor
            retry.timeFactor = try r.double("time_factor") ?? retry.timeFactor
            if let cap = try r.string("memory_cap") {
                guard let mb = Units.megabytes(cap) else { throw r.error("'\(cap)' is not a size like 64G", key: "memory_cap") }
                retry.memoryCapMB = mb
            }
        }
        if let r = try t.table("run") {
            try r.checkKeys(allowed: ["batch_size", "grad_accumulation", "expected_steps", "expected_epochs"])
            run.batchSize = try r.int("batch_size") ?? run.batchSize
            run.gradAccumulation = try r.int("grad_accumulation") ?? run.gradAccumulation
            run.expectedSteps = try r.int("expected_steps") ?? run.expectedSteps
            run.expectedEpochs = try r.int("expected_epochs") ?? run.expectedEpochs
        }
        if let h = try t.table("health") {
            try h.checkKeys(allowed: ["degraded", "systemic"])
            health.degraded = try h.double("degraded") ?? health.degraded
            health.systemic = try h.double("systemic") ?? health.systemic
        }
        if let s = try t.table("slurm") {
            try s.checkKeys(allowed: ["partition", "account", "qos", "exec_prefix", "signal_before_limit", "requeue", "extra_args"])
            slurm.partition = try s.string("partition") ?? slurm.partition
            slurm.account = try s.string("account") ?? slurm.account
            slurm.qos = try s.string("qos") ?? slurm.qos
            slurm.execPrefix = try s.stringArray("exec_prefix") ?? slurm.execPrefix
            slurm.signalBeforeLimit = try s.int("signal_before_limit") ?? slurm.signalBeforeLimit
            slurm.requeue = try s.bool("requeue") ?? slurm.requeue
            slurm.extraArgs = try s.stringArray("extra_args") ?? slurm.extraArgs
        }
    }

    /// Reads a `[resources]`-shaped table.
    static func resources(_ t: TOMLTable) throws -> Resources {
        try t.checkKeys(allowed: ["mem", "cpus", "gpus", "time", "partition", "account", "qos"])
        var r = Resources()
        if let m = try t.string("mem") {
            guard let mb = Units.megabytes(m) else { throw t.error("'\(m)' is not a size like 4G or 512M", key: "mem") }
            r.memoryMB = mb
        } else if t["mem"] != nil {
            r.memoryMB = try t.int("mem")
        }
        r.cpus = try t.int("cpus")
        r.gpus = try t.int("gpus")
        if let s = try t.string("time") {
            guard let secs = Units.seconds(s) else { throw t.error("'\(s)' is not a time like 01:30:00 or 90m", key: "time") }
            r.timeLimitSeconds = secs
        }
        r.partition = try t.string("partition")
        r.account = try t.string("account")
        r.qos = try t.string("qos")
        return r
    }

    /// The resources of a run: [resources], then the profile, then command-line overrides.
    public func resources(profile: String?, overrides: Resources) throws -> Resources {
        var r = resources
        if let profile {
            guard let p = profiles[profile] else {
                throw ExptError(.invalidInput, "unknown profile '\(profile)'",
                                hint: profiles.isEmpty ? "define [profiles.\(profile)] in expt.toml"
                                    : "known profiles: \(profiles.keys.sorted().joined(separator: ", "))")
            }
            r = r.overridden(by: p)
        }
        return r.overridden(by: overrides)
    }
}
