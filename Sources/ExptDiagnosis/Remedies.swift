import Foundation
import ExptModel

/// Turns a category into what to do, with concrete numbers where the run's facts allow:
/// memory × `run.memoryFactor` up to the cap (or the `highmem` profile), batch ×0.75 with
/// accumulation ×1.33, time limit × `run.timeFactor`, resume from the newest checkpoint.
enum Remedies {
    static let batchFactor = 0.75
    static let accumulationFactor = 1.33
    static let highmemProfile = "highmem"

    /// Categories where resuming from a checkpoint is sound once the cause is dealt with.
    static let resumableCategories: Set<FailureCategory> = [
        .oomHost, .oomGPU, .timeout, .preempted, .nodeFailure, .stuckScheduling, .mountFailure,
        .ncclDistributed, .diskFull, .segfaultSignal, .networkTransient,
    ]

    static func remedy(for verdict: Verdict, run: RunFacts, scheduler: SchedulerFacts?, checkpoint: String?) -> Remedy {
        var remedy = base(verdict.category, run: run, scheduler: scheduler, checkpoint: checkpoint)
        if let rule = verdict.decisive {
            if let kind = rule.remedy, kind != remedy.kind {
                // The default description belongs to the default kind: the rule's advice replaces it.
                remedy.kind = kind
                if kind != .escalateResources { remedy.change = nil }
                if let advice = rule.advice { remedy.description = advice }
            } else if let advice = rule.advice {
                remedy.description += " " + advice
            }
        }
        if let checkpoint, remedy.kind != .none, remedy.change?.resumeFrom == nil, resumableCategories.contains(verdict.category) {
            var change = remedy.change ?? RemedyChange()
            change.resumeFrom = checkpoint
            remedy.change = change
            remedy.description += " Resume from \(checkpoint)."
        }
        if remedy.change?.isEmpty == true { remedy.change = nil }
        return remedy
    }

    static func base(_ category: FailureCategory, run: RunFacts, scheduler: SchedulerFacts?, checkpoint: String?) -> Remedy {
        let resumeOrRetry: RemedyKind = checkpoint != nil ? .resume : .retry
        switch category {
        case .oomHost: return memory(run: run, scheduler: scheduler)
        case .oomGPU: return batch(run: run)
        case .timeout: return time(run: run, scheduler: scheduler, checkpoint: checkpoint)
        case .preempted:
            return Remedy(kind: resumeOrRetry, description: "The job was preempted, not broken: relaunch it as is.")
        case .nodeFailure:
            return Remedy(kind: resumeOrRetry, description: "A node or GPU failed: relaunch, excluding the failed node if the scheduler allows.")
        case .ncclDistributed:
            return Remedy(kind: resumeOrRetry, description: "A collective operation failed or hung: relaunch; if it repeats, check the interconnect and NCCL settings (NCCL_DEBUG=INFO).")
        case .networkTransient:
            return Remedy(kind: resumeOrRetry, description: "A network call failed transiently: retry as is.")
        case .stuckScheduling:
            return Remedy(kind: .resubmitElsewhere, description: "The job cannot be scheduled where it is: cancel it and resubmit to another partition, queue or node pool, or with smaller resource requests.")
        case .mountFailure:
            return Remedy(kind: .resubmitElsewhere, description: "A volume or network filesystem failed to mount: resubmit on another node once the mount is healthy.")
        case .imagePull:
            return Remedy(kind: .needsChange, description: "The container image could not be pulled: fix the image name or tag, or the registry credentials.")
        case .configError:
            return Remedy(kind: .needsChange, description: "The run's configuration or arguments are invalid: fix them; retrying as is will fail the same way.")
        case .missingDependency:
            return Remedy(kind: .needsChange, description: "A package, module or the environment is missing or broken: fix the environment (activation, install, versions) before relaunching.")
        case .dataError:
            return Remedy(kind: .needsChange, description: "Input data is missing or unreadable: fix the data path or the files.")
        case .nanLoss:
            return Remedy(kind: .needsChange, description: "Training diverged (NaN/inf loss): lower the learning rate, add gradient clipping or warmup, or check the inputs; resume only from a checkpoint before the divergence.")
        case .diskFull:
            return Remedy(kind: .needsChange, description: "The disk or quota is full: free space or write outputs and checkpoints elsewhere.")
        case .codeError:
            return Remedy(kind: .needsChange, description: "The program raised an error: fix the code; a blind retry will fail the same way.")
        case .segfaultSignal:
            return Remedy(kind: .needsChange, description: "The process crashed on a signal: check native extensions, library versions and shared memory.")
        case .falseSuccess:
            return Remedy(kind: .needsChange, description: "The run ended normally but did little or no training: check the data, step counts and device use before trusting its results.")
        case .success:
            return Remedy(kind: .none, description: "Nothing to fix.")
        case .unknown:
            return Remedy(kind: .none, description: "No known failure pattern matched: read the log tail (expt logs), then add a rule to .expt/rules.toml if this failure will recur.")
        }
    }

    static func memory(run: RunFacts, scheduler: SchedulerFacts?) -> Remedy {
        let hasHighmem = run.profiles.contains(highmemProfile)
        let peak = scheduler?.maxRSSMB.map { " (peak RSS \(Units.memoryString($0)))" } ?? ""
        guard let current = run.memoryMB ?? scheduler?.requestedMemoryMB, current > 0 else {
            if hasHighmem {
                return Remedy(kind: .escalateResources, description: "Host memory ran out\(peak): relaunch with the '\(highmemProfile)' profile.",
                              change: RemedyChange(profile: highmemProfile))
            }
            return Remedy(kind: .escalateResources, description: "Host memory ran out\(peak): raise the memory request by \(percent(run.memoryFactor)), or reduce memory use (fewer DataLoader workers, smaller buffers).")
        }
        // Escalate from what the run was seen to use when that is above its request (sampling
        // sees a job past its limit before killing it): never propose less than it used.
        let used = max(current, scheduler?.maxRSSMB ?? 0)
        var proposed = Int((Double(used) * run.memoryFactor).rounded(.up))
        if let cap = run.memoryCapMB {
            if current >= cap {
                if hasHighmem {
                    return Remedy(kind: .escalateResources, description: "Host memory ran out\(peak) at the \(Units.memoryString(cap)) cap: relaunch with the '\(highmemProfile)' profile.",
                                  change: RemedyChange(profile: highmemProfile))
                }
                return Remedy(kind: .needsChange, description: "Host memory ran out\(peak) and \(Units.memoryString(current)) is already the cap: reduce memory use (fewer DataLoader workers, smaller buffers, streaming data).")
            }
            proposed = min(proposed, cap)
            if let seen = scheduler?.maxRSSMB, seen >= proposed {
                return Remedy(kind: .needsChange, description: "Host memory ran out\(peak): the run used more than the \(Units.memoryString(cap)) cap allows: reduce memory use (fewer DataLoader workers, smaller buffers, streaming data).")
            }
        }
        return Remedy(kind: .escalateResources, description: "Host memory ran out\(peak): raise memory \(Units.memoryString(current)) → \(Units.memoryString(proposed)).",
                      change: RemedyChange(memoryMB: proposed))
    }

    static func batch(run: RunFacts) -> Remedy {
        guard let b = run.batchSize else {
            return Remedy(kind: .escalateResources, description: "GPU memory ran out: reduce the batch size by 25% and raise gradient accumulation by a third to keep the effective batch.")
        }
        let newBatch = Int((Double(b) * batchFactor).rounded(.down))
        guard newBatch >= 1, newBatch < b else {
            return Remedy(kind: .needsChange, description: "GPU memory ran out at batch size \(b): enable gradient checkpointing or mixed precision, shard the model, or use a larger GPU.")
        }
        guard let a = run.gradAccumulation, a >= 1 else {
            return Remedy(kind: .escalateResources, description: "GPU memory ran out: reduce batch \(b) → \(newBatch) (and raise gradient accumulation to keep the effective batch).",
                          change: RemedyChange(batchSize: newBatch))
        }
        let newAccum = Int((Double(a) * accumulationFactor).rounded(.up))
        return Remedy(kind: .escalateResources, description: "GPU memory ran out: reduce batch \(b) → \(newBatch) and raise gradient accumulation \(a) → \(newAccum).",
                      change: RemedyChange(batchSize: newBatch, gradAccumulation: newAccum))
    }

    static func time(run: RunFacts, scheduler: SchedulerFacts?, checkpoint: String?) -> Remedy {
        let kind: RemedyKind = checkpoint != nil ? .resume : .escalateResources
        let what = checkpoint != nil ? "resume" : "relaunch (no checkpoint found: it restarts from scratch)"
        guard let current = run.timeLimitSeconds ?? scheduler?.timeLimitSeconds, current > 0 else {
            return Remedy(kind: kind, description: "The job hit its time limit: \(what) with a \(percent(run.timeFactor)) longer time limit.")
        }
        let proposed = Int((Double(current) * run.timeFactor / 60).rounded(.up)) * 60
        return Remedy(kind: kind, description: "The job hit its time limit: \(what) with time limit \(Units.duration(current)) → \(Units.duration(proposed)).",
                      change: RemedyChange(timeLimitSeconds: proposed))
    }

    /// 1.5 → "50%": how much a factor raises a request.
    static func percent(_ factor: Double) -> String { "\(Int(((factor - 1) * 100).rounded()))%" }
}
