import Foundation
import ExptModel
import ExptDiagnosis

/// The one way to read a run's output: through its backend, for `expt logs`, status progress
/// and diagnosis alike, so an array task or a cluster behind an exec prefix reads the same way
/// as a local job.
extension RunService {
    /// Where the run's output is: of one task for an array (`task`), of the job otherwise.
    public func outputSources(_ run: RunRecord, task: Int? = nil) throws -> [LogSource] {
        guard let spec = run.spec, let ref = run.ref else {
            // Not submitted (or recorded by an old expt): the run directory, if any.
            guard let dir = run.logDir, task == nil else { return [] }
            return [LogSource(kind: .stdout, path: dir + "/stdout.log"), LogSource(kind: .stderr, path: dir + "/stderr.log")]
        }
        return try backend(for: run).logs(ref, spec: spec).filter { $0.kind != .wandb && $0.task == task }
    }

    /// The stdout or stderr source of `run` (of `task` for an array), with errors that say what
    /// to pass instead.
    public func outputSource(_ run: RunRecord, task: Int?, stderr: Bool) throws -> LogSource {
        let indices = run.spec?.array?.indices ?? run.tasks.map(\.index)
        if task == nil, !indices.isEmpty {
            let failed = run.tasks.filter { $0.state.isFailure }.map(\.index)
            throw ExptError(.invalidInput, "run \(run.id) is an array of \(indices.count) tasks; its output is per task",
                            hint: "pass --task N (tasks \(ArraySpec.describe(indices))"
                                + (failed.isEmpty ? ")" : "; failed: \(failed.map(String.init).joined(separator: ", ")))"))
        }
        if let task, !indices.contains(task) {
            throw ExptError(.invalidInput, indices.isEmpty ? "run \(run.id) is a single job, not an array: it has no task \(task)"
                                                           : "run \(run.id) has no task \(task) (tasks \(ArraySpec.describe(indices)))")
        }
        let kind: LogSource.Kind = stderr ? .stderr : .stdout
        guard let source = try outputSources(run, task: task).first(where: { $0.kind == kind || $0.kind == .combined }) else {
            throw ExptError(.notFound, "run \(run.id) has no \(kind.rawValue) output",
                            hint: run.state == .submitting ? "it is still being submitted" : nil)
        }
        return source
    }

    /// Reads part of one output through the run's backend.
    public func read(_ run: RunRecord, _ source: LogSource, _ range: LogRange) throws -> LogChunk {
        if run.spec == nil || run.ref == nil { return try LocalLogFile.read(source.path, range) }
        return try backend(for: run).read(source, range)
    }

    /// Training progress from the last 64 KiB of the run's stdout ("epoch 2, step 340/1000").
    /// Output on another host is read only while the run is running (one remote read per live
    /// run, none for finished ones). nil when there is nothing to show or it cannot be read now:
    /// status must not fail on it.
    public func progress(_ run: RunRecord) -> String? {
        guard let sources = try? outputSources(run, task: nil),
              let out = sources.first(where: { $0.kind == .stdout || $0.kind == .combined }),
              !out.remote || run.state == .running,
              let chunk = try? read(run, out, .tail(bytes: 64 << 10)) else { return nil }
        return Progress.read(chunk).summary
    }

    /// The run's outputs (of `task`) read for diagnosis: head and tail windows, missing ones skipped.
    func diagnosisInputs(_ run: RunRecord, task: Int?) throws -> [LogInput] {
        var inputs: [LogInput] = []
        // The scheduler's own words about the task (a workflow node's message, a missing done marker).
        if let task, let message = run.tasks.first(where: { $0.index == task })?.message, !message.isEmpty {
            inputs.append(LogInput(label: "scheduler", text: message + "\n"))
        }
        for source in try outputSources(run, task: task) {
            do {
                let chunk = try read(run, source, .diagnosis)
                inputs.append(LogInput(label: (source.path as NSString).lastPathComponent, chunk: chunk))
            } catch let e as ExptError where e.kind == .notFound {
                continue    // not written (yet): diagnosis goes on with the scheduler's facts
            }
        }
        return inputs
    }
}

extension ArraySpec {
    /// [0,1,2,3,7] → "0-3,7".
    public static func describe(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let s = indices.sorted()
        while i < s.count {
            var j = i
            while j + 1 < s.count, s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
