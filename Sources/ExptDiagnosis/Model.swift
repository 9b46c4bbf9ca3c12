import Foundation
import ExptModel

/// The one failure taxonomy shared by every backend (docs/diagnosis.md, "Categories, evidence, remedies").
public enum FailureCategory: String, Codable, CaseIterable, Sendable {
    case oomHost = "oom_host"
    case oomGPU = "oom_gpu"
    case timeout
    case preempted
    case nodeFailure = "node_failure"
    case stuckScheduling = "stuck_scheduling"
    case mountFailure = "mount_failure"
    case imagePull = "image_pull"
    case configError = "config_error"
    case missingDependency = "missing_dependency"
    case dataError = "data_error"
    case nanLoss = "nan_loss"
    case ncclDistributed = "nccl_distributed"
    case diskFull = "disk_full"
    case codeError = "code_error"
    case segfaultSignal = "segfault_signal"
    case networkTransient = "network_transient"
    case falseSuccess = "false_success"
    case success
    case unknown

    /// True for the categories that mean the run did not do its job.
    public var isFailure: Bool { self != .success && self != .unknown }
}

/// What the scheduler knows about a finished (or stuck) job. Every field is optional because
/// each backend knows a different subset.
public struct SchedulerFacts: Codable, Sendable, Equatable {
    /// Raw scheduler state ("OUT_OF_MEMORY", "TIMEOUT", "CANCELLED by 0", "NODE_FAIL", ...) or
    /// expt's unified state ("oom", "timeout", "preempted", "node_fail", "failed", "succeeded",
    /// "cancelled", "lost", "pending"); rules match either.
    public var state: String?
    public var exitCode: Int32?
    public var signal: Int32?
    public var elapsedSeconds: Int?
    public var timeLimitSeconds: Int?
    public var maxRSSMB: Int?
    public var requestedMemoryMB: Int?
    /// Why a pending job waits ("Priority", "ReqNodeNotAvail", "Unschedulable", ...).
    public var pendingReason: String?

    public init(state: String? = nil, exitCode: Int32? = nil, signal: Int32? = nil,
                elapsedSeconds: Int? = nil, timeLimitSeconds: Int? = nil, maxRSSMB: Int? = nil,
                requestedMemoryMB: Int? = nil, pendingReason: String? = nil) {
        self.state = state; self.exitCode = exitCode; self.signal = signal
        self.elapsedSeconds = elapsedSeconds; self.timeLimitSeconds = timeLimitSeconds
        self.maxRSSMB = maxRSSMB; self.requestedMemoryMB = requestedMemoryMB
        self.pendingReason = pendingReason
    }
}

/// What the run was configured to do; used to compute concrete remedies and to spot a run
/// that "succeeded" without training.
public struct RunFacts: Codable, Sendable, Equatable {
    public var batchSize: Int?
    public var gradAccumulation: Int?
    public var expectedSteps: Int?
    public var expectedEpochs: Int?
    public var memoryMB: Int?
    public var timeLimitSeconds: Int?
    /// Memory escalation never goes above this.
    public var memoryCapMB: Int?
    /// Names of the profiles configured in expt.toml (e.g. "highmem").
    public var profiles: [String]
    /// Memory is multiplied by this after a host OOM (`[retry] memory_factor`).
    public var memoryFactor: Double
    /// The time limit is multiplied by this after a timeout (`[retry] time_factor`).
    public var timeFactor: Double

    public init(batchSize: Int? = nil, gradAccumulation: Int? = nil, expectedSteps: Int? = nil,
                expectedEpochs: Int? = nil, memoryMB: Int? = nil, timeLimitSeconds: Int? = nil,
                memoryCapMB: Int? = nil, profiles: [String] = [],
                memoryFactor: Double = 1.5, timeFactor: Double = 1.5) {
        self.batchSize = batchSize; self.gradAccumulation = gradAccumulation
        self.expectedSteps = expectedSteps; self.expectedEpochs = expectedEpochs
        self.memoryMB = memoryMB; self.timeLimitSeconds = timeLimitSeconds
        self.memoryCapMB = memoryCapMB; self.profiles = profiles
        self.memoryFactor = memoryFactor; self.timeFactor = timeFactor
    }
}

/// One log to read: a file on disk, or text held in memory (tests, logs fetched by a backend).
public struct LogInput: Sendable, Equatable {
    /// Shown as the evidence's file ("stdout", "slurm-42.out", ...).
    public var label: String
    public var path: String?
    public var text: String?

    /// Bytes already read through a backend (`Backend.read`), head and tail windows kept apart.
    public var chunk: LogChunk?

    public init(label: String, path: String) { self.label = label; self.path = path; self.text = nil }
    public init(label: String, text: String) { self.label = label; self.path = nil; self.text = text }
    public init(label: String, chunk: LogChunk) { self.label = label; self.path = nil; self.text = nil; self.chunk = chunk }
}

/// Everything the diagnoser may look at. Only `logs` or `scheduler` is needed; the rest
/// sharpens the remedy.
public struct DiagnosisInput: Sendable {
    public var logs: [LogInput]
    /// A `wandb/` directory, a run directory inside it, or nil.
    public var wandbDir: String?
    public var scheduler: SchedulerFacts?
    /// Checkpoint paths, oldest first; the last one is resumed from.
    public var checkpoints: [String]
    public var run: RunFacts?

    public init(logs: [LogInput] = [], wandbDir: String? = nil, scheduler: SchedulerFacts? = nil,
                checkpoints: [String] = [], run: RunFacts? = nil) {
        self.logs = logs; self.wandbDir = wandbDir; self.scheduler = scheduler
        self.checkpoints = checkpoints; self.run = run
    }
}

/// A line that supports a diagnosis.
public struct Evidence: Codable, Sendable, Equatable {
    /// The log's label, or "scheduler" for scheduler facts.
    public var file: String
    /// 1-based line number. Negative when the log was too large to count its lines cheaply:
    /// -1 is the last line, -2 the one before (as in `tail -n 2`). 0 for scheduler facts.
    public var line: Int
    /// The line with ANSI codes removed, clipped around the match.
    public var text: String
    /// The rule that matched it.
    public var rule: String?

    public init(file: String, line: Int, text: String, rule: String? = nil) {
        self.file = file; self.line = line; self.text = text; self.rule = rule
    }

    /// `train.log:42`, or `train.log:(3rd line from end)` for huge logs.
    public var location: String {
        if line > 0 { return "\(file):\(line)" }
        if line < 0 { return "\(file):(line \(-line) from end)" }
        return file
    }
}

/// The kind of action a remedy asks for (docs/diagnosis.md, "Categories, evidence, remedies").
public enum RemedyKind: String, Codable, Sendable {
    case escalateResources = "escalate_resources"
    case resume
    case retry
    case resubmitElsewhere = "resubmit_elsewhere"
    case needsChange = "needs_change"
    case none
}

/// The concrete change a remedy proposes, where it can be computed.
public struct RemedyChange: Codable, Sendable, Equatable {
    public var memoryMB: Int?
    public var profile: String?
    public var timeLimitSeconds: Int?
    public var batchSize: Int?
    public var gradAccumulation: Int?
    public var resumeFrom: String?

    public init(memoryMB: Int? = nil, profile: String? = nil, timeLimitSeconds: Int? = nil,
                batchSize: Int? = nil, gradAccumulation: Int? = nil, resumeFrom: String? = nil) {
        self.memoryMB = memoryMB; self.profile = profile; self.timeLimitSeconds = timeLimitSeconds
        self.batchSize = batchSize; self.gradAccumulation = gradAccumulation; self.resumeFrom = resumeFrom
    }

    var isEmpty: Bool { self == RemedyChange() }
}

/// What to do about a failure.
public struct Remedy: Codable, Sendable, Equatable {
    public var kind: RemedyKind
    public var description: String
    public var change: RemedyChange?

    public init(kind: RemedyKind, description: String, change: RemedyChange? = nil) {
        self.kind = kind; self.description = description; self.change = change
    }
}

/// One rule that matched one line (or one scheduler fact); `--explain` lists them all.
public struct RuleHit: Codable, Sendable, Equatable {
    public var rule: String
    public var category: FailureCategory
    public var precedence: Int
    /// fatal, weak, spoils_success or success (see `RuleEffect`).
    public var effect: RuleEffect
    public var evidence: Evidence
    /// The system the rule reads, and where its wording comes from (rules.toml `family`,
    /// `wording_from`); nil for rules that name none.
    public var family: String?
    public var wordingFrom: String?

    public init(rule: String, category: FailureCategory, precedence: Int, effect: RuleEffect, evidence: Evidence,
                family: String? = nil, wordingFrom: String? = nil) {
        self.rule = rule; self.category = category; self.precedence = precedence
        self.effect = effect; self.evidence = evidence; self.family = family; self.wordingFrom = wordingFrom
    }
}

/// How far a run got, read from the logs and the W&B summary.
public struct Progress: Codable, Sendable, Equatable {
    public var lastStep: Int?
    public var totalSteps: Int?
    public var lastEpoch: Int?
    /// From "epoch 2/10".
    public var totalEpochs: Int?
    public var lastLoss: Double?
    public var minLoss: Double?
    /// "nan", "diverging", "decreasing", "flat" or nil when too few values were seen.
    public var lossTrend: String?

    public init(lastStep: Int? = nil, totalSteps: Int? = nil, lastEpoch: Int? = nil,
                lastLoss: Double? = nil, minLoss: Double? = nil, lossTrend: String? = nil) {
        self.lastStep = lastStep; self.totalSteps = totalSteps; self.lastEpoch = lastEpoch
        self.lastLoss = lastLoss; self.minLoss = minLoss; self.lossTrend = lossTrend
    }

    var isEmpty: Bool { self == Progress() }
}

/// The answer: what failed, the lines that show it, whether it can resume, and what to do.
public struct Diagnosis: Codable, Sendable {
    public var category: FailureCategory
    public var secondary: FailureCategory?
    public var evidence: [Evidence]
    public var resumable: Bool
    public var checkpoint: String?
    public var remedy: Remedy
    public var progress: Progress?
    /// Every rule that fired, best first.
    public var hits: [RuleHit]
    /// Why the winner won, in one or two sentences.
    public var explanation: String
    /// Rules skipped because their regexes ran out of time ("rule 'redos' exceeded its time limit
    /// on stderr.log:1; skipped"); the diagnosis is made from the other rules. Empty normally.
    public var warnings: [String]

    /// For fakes in other modules' tests; real diagnoses come from `Diagnoser.diagnose`.
    public init(category: FailureCategory, secondary: FailureCategory? = nil, evidence: [Evidence] = [],
                resumable: Bool = false, checkpoint: String? = nil, remedy: Remedy, progress: Progress? = nil,
                hits: [RuleHit] = [], explanation: String = "", warnings: [String] = []) {
        self.category = category; self.secondary = secondary; self.evidence = evidence
        self.resumable = resumable; self.checkpoint = checkpoint; self.remedy = remedy
        self.progress = progress; self.hits = hits; self.explanation = explanation; self.warnings = warnings
    }
}
