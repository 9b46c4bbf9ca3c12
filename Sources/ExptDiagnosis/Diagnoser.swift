import Foundation

/// Names the failure of a run from its logs and scheduler facts. Pure apart from reading the
/// given files (bounded windows only); safe to share across threads.
public struct Diagnoser: @unchecked Sendable {
    public let rules: RuleSet
    public var limits: ReadLimits
    let compiled: CompiledRules
    /// The rules read against scheduler facts, apart (every diagnosis walks them).
    let factRules: [Rule]
    let factCache = FactMatchCache()
    /// Tests turn the literal prefilter off to check it never loses a match.
    var usePrefilter = true
    /// Time limits on rule regexes, per diagnosis; tests lower them to keep slow-rule cases short.
    var regexBudget = RegexBudget.default

    public init(rules: RuleSet, limits: ReadLimits = .default) {
        self.rules = rules
        self.limits = limits
        self.compiled = CompiledRules(rules.rules)
        self.factRules = rules.rules.filter { $0.source != .log }
    }

    /// Many inputs (the failed tasks of an array) at once, on every core; results in order.
    public func diagnoseAll(_ inputs: [DiagnosisInput]) -> [Result<Diagnosis, Error>] {
        guard inputs.count > 1 else { return inputs.map { i in Result { try diagnose(i) } } }
        let results = UnsafeMutableBufferPointer<Result<Diagnosis, Error>?>.allocate(capacity: inputs.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let base = results.baseAddress!
        let address = Int(bitPattern: base)
        DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
            // Each iteration writes only its own slot.
            let slot = UnsafeMutablePointer<Result<Diagnosis, Error>?>(bitPattern: address)! + i
            slot.pointee = Result { try diagnose(inputs[i]) }
        }
        return (0..<inputs.count).map { results[$0]! }
    }

    /// Throws only when there is nothing at all to look at (no readable log, no W&B run, no
    /// scheduler facts); unreadable logs among readable ones are reported in `explanation`.
    public func diagnose(_ input: DiagnosisInput) throws -> Diagnosis {
        var logs = input.logs
        var run = input.run ?? RunFacts()
        var wandbProgress: Progress?
        var notes: [String] = []
        if let dir = input.wandbDir {
            if let wandb = WandbRun.read(dir) {
                if let output = wandb.outputLog {
                    let name = (wandb.runDir as NSString).lastPathComponent
                    logs.append(LogInput(label: "wandb/\(name)/files/output.log", path: output))
                }
                wandbProgress = wandb.summary.isEmpty ? nil : wandb.summary
                run.batchSize = run.batchSize ?? wandb.config.batchSize
                run.gradAccumulation = run.gradAccumulation ?? wandb.config.gradAccumulation
                run.expectedSteps = run.expectedSteps ?? wandb.config.expectedSteps
                run.expectedEpochs = run.expectedEpochs ?? wandb.config.expectedEpochs
            } else {
                notes.append("no W&B run found in \(dir)")
            }
        }
        var windows: [LogWindow] = []
        for log in logs {
            switch LogReader.read(log, limits: limits) {
            case .success(let w): windows.append(w)
            case .failure(let problem): notes.append("\(problem.label): \(problem.message)")
            }
        }
        if windows.isEmpty && input.scheduler == nil {
            let what = notes.isEmpty ? "no logs were given" : notes.joined(separator: "; ")
            throw DiagnosisError("nothing to diagnose: \(what)",
                                 hint: "pass a readable log file, a W&B run directory, or the job's scheduler state")
        }

        var hits: [RawHit] = []
        var clock = RuleClock(regexBudget)
        for (i, window) in windows.enumerated() {
            hits += compiled.scan(window, logIndex: i, positionBase: i * 100_000_000, prefilter: usePrefilter, clock: &clock)
        }
        let schedulerPosition = windows.count * 100_000_000
        hits += FactRules.schedulerHits(input.scheduler, rules: factRules, position: schedulerPosition, cache: factCache,
                                        clock: &clock)

        var (progress, completion) = ProgressParser.read(windows)
        if let w = wandbProgress { progress.merge(w) }
        var factHits = FactRules.derivedHits(scheduler: input.scheduler, run: run, progress: progress,
                                             position: schedulerPosition + 1)
        if let done = completion { factHits += FactRules.completionHit(done, position: schedulerPosition + 2) }
        var verdict = Classifier.classify(hits: hits, factHits: factHits, scheduler: input.scheduler)
        if !notes.isEmpty { verdict.explanation += " Not read: " + notes.joined(separator: "; ") + "." }

        let checkpoint = input.checkpoints.last
        let resumable = checkpoint != nil && Remedies.resumableCategories.contains(verdict.category)
        let remedy = Remedies.remedy(for: verdict, run: run, scheduler: input.scheduler,
                                     checkpoint: resumable ? checkpoint : nil)
        return Diagnosis(category: verdict.category, secondary: verdict.secondary, evidence: verdict.evidence,
                         resumable: resumable, checkpoint: resumable ? checkpoint : nil, remedy: remedy,
                         progress: progress.isEmpty ? nil : progress, hits: verdict.hits,
                         explanation: verdict.explanation, warnings: clock.warnings)
    }
}

extension Progress {
    /// Fills what the logs did not show from another source (the W&B summary).
    mutating func merge(_ other: Progress) {
        lastStep = lastStep ?? other.lastStep
        totalSteps = totalSteps ?? other.totalSteps
        lastEpoch = lastEpoch ?? other.lastEpoch
        totalEpochs = totalEpochs ?? other.totalEpochs
        // The summary holds the run's final values: a NaN there outweighs an earlier finite log line.
        if lastLoss == nil || other.lossTrend == "nan" {
            lastLoss = other.lastLoss ?? lastLoss
            lossTrend = other.lossTrend ?? lossTrend
        }
    }
}
