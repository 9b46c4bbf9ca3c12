import Foundation
import ExptModel

/// What a rule's patterns are matched against.
public enum RuleSource: String, Codable, Sendable, CaseIterable {
    /// Every line of the log windows.
    case log
    /// The scheduler state string (raw or unified).
    case state
    /// The exit code, as a decimal string ("137").
    case exitCode = "exit_code"
    /// The terminating signal, as a decimal string ("9").
    case signal
    /// The reason a pending job waits ("Priority", "ReqNodeNotAvail").
    case pendingReason = "pending_reason"

    /// How evidence names the fact ("exit code: 137"). A switch, not a string replacement: it is
    /// asked once per fact rule of every diagnosis (1,000 of them for an array).
    var label: String {
        switch self {
        case .log: "log"
        case .state: "state"
        case .exitCode: "exit code"
        case .signal: "signal"
        case .pendingReason: "pending reason"
        }
    }
}

/// How much a hit says about the outcome of the run.
public enum RuleEffect: String, Codable, Sendable, CaseIterable {
    /// The run died of this (the last exception, a kill message, a scheduler state).
    case fatal
    /// Noise unless nothing fatal explains the failure: warnings, retries, a failed `conda
    /// activate` that the job survived. Never beats a fatal hit or success.
    case weak
    /// Turns an apparent success into a failure: zero GPU use, a NaN loss at the end.
    case spoilsSuccess = "spoils_success"
    /// Evidence that the run finished normally.
    case success

    /// Higher tiers always beat lower ones, whatever their precedence.
    var tier: Int {
        switch self {
        case .fatal: return 3
        case .spoilsSuccess: return 2
        case .success: return 1
        case .weak: return 0
        }
    }
}

/// One diagnosis rule, as written in `templates/rules.toml` or `.expt/rules.toml`.
public struct Rule: @unchecked Sendable {
    public var id: String
    public var category: FailureCategory
    public var source: RuleSource
    public var patterns: [String]
    /// Higher wins among hits of the same effect tier.
    public var precedence: Int
    public var effect: RuleEffect
    /// A second category this rule always implies (e.g. a memory eviction is also a preemption).
    public var secondary: FailureCategory?
    /// When this rule fires before a winner of one of these categories, it is the winner's root
    /// cause (a failed env activation before `ModuleNotFoundError`), even if it is weak.
    public var rootCauseOf: [FailureCategory]
    /// Overrides the category's default remedy kind.
    public var remedy: RemedyKind?
    /// A sentence of advice added to the remedy description.
    public var advice: String?
    /// Where the rule was defined (`rules.toml:120`), for error messages and --explain.
    public var origin: String
    /// The system whose messages the rule reads (`kubernetes`, `slurm`, `pytorch`…).
    public var family: String?
    /// Where that system's wording is defined (`kubernetes/kubernetes pkg/kubelet/eviction/helpers.go`).
    public var wordingFrom: String?
    var regexes: [RulePattern]

    /// Throws a `DiagnosisError` naming the rule and its file when a pattern does not compile.
    public init(id: String, category: FailureCategory, source: RuleSource = .log, patterns: [String],
                precedence: Int, effect: RuleEffect? = nil, secondary: FailureCategory? = nil,
                rootCauseOf: [FailureCategory] = [], remedy: RemedyKind? = nil, advice: String? = nil,
                origin: String = "", family: String? = nil, wordingFrom: String? = nil, compileNow: Bool = true) throws {
        self.family = family; self.wordingFrom = wordingFrom
        self.id = id; self.category = category; self.source = source; self.patterns = patterns
        self.precedence = precedence
        self.effect = effect ?? Rule.defaultEffect(for: category)
        self.secondary = secondary; self.rootCauseOf = rootCauseOf; self.remedy = remedy
        self.advice = advice; self.origin = origin
        self.regexes = try patterns.map { pattern in
            guard compileNow else { return RulePattern(pattern, compiled: nil) }
            guard let regex = RulePattern.compile(pattern) else {
                throw DiagnosisError("rule '\(id)' (\(origin.isEmpty ? "rules" : origin)): invalid regex pattern '\(pattern)'",
                                     hint: "fix the pattern (ICU regex syntax) or remove the rule")
            }
            return RulePattern(pattern, compiled: regex)
        }
    }

    static func defaultEffect(for category: FailureCategory) -> RuleEffect {
        switch category {
        case .success: return .success
        case .falseSuccess: return .spoilsSuccess
        default: return .fatal
        }
    }
}

/// A failure with a message in the user's words: what went wrong, and what to do about it.
public struct DiagnosisError: UserFacingError, Sendable {
    public var kind: ErrorKind { .invalidInput }
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }

    public var description: String { hint.map { "\(message)\nhint: \($0)" } ?? message }
}

/// A rule pattern's regex, compiled on first use: a diagnosis wakes a few dozen of the built-in
/// rules' 2,000 patterns, and compiling them all was a tenth of every `expt diagnose`. Shared by
/// the copies of a rule; the lock serves diagnoses of an array's tasks running in parallel.
final class RulePattern: @unchecked Sendable {
    let pattern: String
    private let lock = NSLock()
    private var compiled: NSRegularExpression?

    init(_ pattern: String, compiled: NSRegularExpression?) {
        self.pattern = pattern
        self.compiled = compiled
    }

    var regex: NSRegularExpression {
        lock.lock()
        defer { lock.unlock() }
        if let compiled { return compiled }
        // Only built-in patterns are deferred, and a test compiles each of them; should one
        // still fail, it matches nothing rather than crash a diagnosis.
        let regex = RulePattern.compile(pattern) ?? RulePattern.never
        compiled = regex
        return regex
    }

    /// Lines may hold several tqdm redraws split by \r; anchors work per redraw.
    static func compile(_ pattern: String) -> NSRegularExpression? {
        try? NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
    }

    private static let never = try! NSRegularExpression(pattern: "(?!)")
}
