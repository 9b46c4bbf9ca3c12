import Foundation
import ExptModel

/// Turns `sacct --parsable2 --noheader --duplicates` and `squeue --noheader --array` output into
/// one `JobStatus` per submitted job id (the id sbatch returned; for arrays the array job id,
/// with one `TaskStatus` per task). Pure: text in, statuses out.
public enum SlurmAccounting {
    /// sacct fields, all present in 22.05 (`sacct --helpformat`). JobName goes last because it
    /// is free text: a `|` inside it would otherwise shift every later field.
    public static let sacctFields = ["JobID", "State", "ExitCode", "DerivedExitCode", "Elapsed", "Timelimit",
                                     "MaxRSS", "ReqMem", "Start", "End", "Reason", "JobName"]
    /// squeue format: id, long state, reason, time used, time limit, memory, start, name.
    public static let squeueFormat = "%i|%T|%r|%M|%l|%m|%S|%j"

    /// One line of either tool, with the fields that tool has.
    struct Row {
        var id: SlurmValues.JobID
        var rawState: String
        var exit: (code: Int32, signal: Int32)?
        var derived: (code: Int32, signal: Int32)?
        var elapsed: Int?
        var timeLimit: Int?
        var maxRSS: Int?
        var reqMem: Int?
        var start: Date?
        var end: Date?
        var reason: String?
    }

    /// Parses sacct output; the result is keyed by base job id. `fields` names the columns
    /// (`--format`, default `sacctFields`; only JobID and State are required, missing ones stay
    /// nil); `trailingDelimiter` is true for `--parsable` (as opposed to `--parsable2`).
    public static func parseSacct(_ text: String, backend: String = "slurm", fields: [String] = sacctFields,
                                  delimiter: Character = "|", trailingDelimiter: Bool = false) throws -> [String: JobStatus] {
        assemble(try sacctRows(text, fields: fields, delimiter: delimiter, trailingDelimiter: trailingDelimiter),
                 backend: backend)
    }

    /// Parses squeue output made with `squeueFormat`; keyed by base job id.
    public static func parseSqueue(_ text: String, backend: String = "slurm") throws -> [String: JobStatus] {
        assemble(try squeueRows(text), backend: backend)
    }

    static func sacctRows(_ text: String, fields: [String] = sacctFields, delimiter: Character = "|",
                          trailingDelimiter: Bool = false) throws -> [Row] {
        let col = Dictionary(fields.enumerated().map { ($1.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        guard let idCol = col["jobid"], let stateCol = col["state"] else {
            throw ExptError(.failure, "sacct fields must include JobID and State, got \(fields)")
        }
        return try split(text, tool: "sacct", fieldCount: fields.count, delimiter: delimiter,
                         trailingDelimiter: trailingDelimiter).map { line, f in
            func v(_ name: String) -> String { col[name].map { f[$0] } ?? "" }
            guard let id = SlurmValues.jobID(f[idCol]) else { throw lineError("sacct", line, f, delimiter) }
            let state = f[stateCol]
            return Row(id: id, rawState: state, exit: SlurmValues.exitCode(v("exitcode")),
                       derived: SlurmValues.exitCode(v("derivedexitcode")),
                       elapsed: SlurmValues.seconds(v("elapsed")), timeLimit: SlurmValues.seconds(v("timelimit")),
                       maxRSS: SlurmValues.megabytes(v("maxrss")), reqMem: SlurmValues.megabytes(v("reqmem")),
                       start: SlurmValues.date(v("start")), end: SlurmValues.date(v("end")),
                       // sacct's Reason is the last reason the job WAITED (e.g. JobArrayTaskLimit on
                       // a finished task): only current while it is pending
                       reason: SlurmValues.baseState(state) == "PENDING" ? meaningful(v("reason")) : nil)
        }
    }

    static func squeueRows(_ text: String) throws -> [Row] {
        try split(text, tool: "squeue", fieldCount: 8).map { line, f in
            guard let id = SlurmValues.jobID(f[0]) else { throw lineError("squeue", line, f) }
            // squeue prints no exit code; COMPLETED means every step exited 0
            return Row(id: id, rawState: f[1], exit: SlurmValues.baseState(f[1]) == "COMPLETED" ? (0, 0) : nil,
                       elapsed: SlurmValues.seconds(f[3]),
                       timeLimit: SlurmValues.seconds(f[4]), reqMem: SlurmValues.megabytes(f[5]),
                       start: SlurmValues.date(f[6]), reason: meaningful(f[2]))
        }
    }

    // MARK: - lines

    /// Non-empty lines split on `|`, with their 1-based line numbers; surplus fields are glued
    /// back onto the last (free-text) field; too few fields is a parse error naming the line.
    static func split(_ text: String, tool: String, fieldCount: Int, delimiter: Character = "|",
                      trailingDelimiter: Bool = false) throws -> [(Int, [String])] {
        var out: [(Int, [String])] = []
        // split on UTF-8 bytes: Character-wise splitting is several times slower on big answers
        let newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        let delim = Array(String(delimiter).utf8)
        for (n, raw) in text.utf8.split(separator: newline, omittingEmptySubsequences: false).enumerated() {
            var line = raw
            if line.last == cr { line = line.dropLast() }
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            if trailingDelimiter, line.count >= delim.count, line.suffix(delim.count).elementsEqual(delim) {
                line = line.dropLast(delim.count)
            }
            let trimmed = String(Substring(line))
            var fields = delim.count == 1
                ? line.split(separator: delim[0], omittingEmptySubsequences: false).map { String(Substring($0)) }
                : trimmed.split(separator: delimiter, omittingEmptySubsequences: false).map(String.init)
            if fields.first == "JobID" || fields.first == "JOBID" { continue }   // a header, if asked for
            guard fields.count >= fieldCount else { throw lineError(tool, n + 1, [String(trimmed)], delimiter) }
            if fields.count > fieldCount {
                fields = Array(fields[..<(fieldCount - 1)])
                    + [fields[(fieldCount - 1)...].joined(separator: String(delimiter))]
            }
            out.append((n + 1, fields))
        }
        return out
    }

    static func lineError(_ tool: String, _ line: Int, _ fields: [String], _ delimiter: Character = "|") -> ExptError {
        ExptError(.external, "could not parse \(tool) output line \(line): '\(fields.joined(separator: String(delimiter)))'",
                  hint: "this Slurm version may print \(tool) differently; please report it with that line")
    }

    /// `None`, `(null)`, `N/A` and empty say "no reason".
    static func meaningful(_ text: String) -> String? {
        ["", "None", "(null)", "N/A"].contains(text) ? nil : text
    }

    // MARK: - grouping

    /// The rows of one run of one job (or array task): its allocation row and the step rows
    /// that follow it; with --duplicates an earlier run's rows are replaced by the next run's.
    struct Incarnation {
        var alloc: Row
        var steps: [Row] = []
        var earlierStates: [String] = []
    }

    /// Rows of one base job id: a plain job, or tasks of an array.
    struct Group {
        var plain: Incarnation?
        var tasks: [Int: Incarnation] = [:]
    }

    /// Statuses from sacct rows, completed by squeue rows (`supplement`). slurmdbd lags behind
    /// the controller and records an array's tasks one by one (seen here: right after a fast
    /// 4-task array, sacct showed job `20` as a plain finished job, without tasks), so:
    /// a job sacct lacks comes from squeue; squeue's array structure beats a plain sacct row;
    /// and per job or task, the view further along (pending < running < ended) wins, keeping
    /// sacct's step rows so an OOM-killed step still counts.
    ///
    /// With `accounting`, an end seen only by squeue is held back as `COMPLETING` (running):
    /// squeue knows no exit code, and a run recorded as ended is never polled again, so its
    /// exit code and any OOM-killed step would be lost. The next poll gets sacct's final record.
    static func assemble(_ rows: [Row], supplement: [Row] = [], backend: String, accounting: Bool = false) -> [String: JobStatus] {
        var groups = group(rows)
        let supplement = accounting ? supplement.map(holdingBackEnd) : supplement
        for (base, extra) in group(supplement) {
            guard var known = groups[base] else { groups[base] = extra; continue }
            if !extra.tasks.isEmpty {
                if known.tasks.isEmpty { known = Group(plain: nil, tasks: [:]) }
                for (index, fresh) in extra.tasks { refresh(&known.tasks[index], with: fresh) }
            } else if let fresh = extra.plain, known.tasks.isEmpty {
                refresh(&known.plain, with: fresh)
            }
            groups[base] = known
        }
        var out: [String: JobStatus] = [:]
        for (base, group) in groups {
            let ref = JobRef(backend: backend, jobID: base)
            if group.tasks.isEmpty, let plain = group.plain {
                out[base] = status(of: plain, ref: ref)
            } else if !group.tasks.isEmpty {
                out[base] = arrayStatus(group.tasks, ref: ref)
            }
        }
        return out
    }

    static func holdingBackEnd(_ row: Row) -> Row {
        guard SlurmValues.state(row.rawState).state.isTerminal else { return row }
        var r = row
        r.rawState = "COMPLETING"
        r.reason = "ended; waiting for the accounting record"
        return r
    }

    static func refresh(_ slot: inout Incarnation?, with fresh: Incarnation) {
        guard let old = slot else { slot = fresh; return }
        guard progress(fresh.alloc) > progress(old.alloc) else { return }
        slot = Incarnation(alloc: fresh.alloc, steps: old.steps, earlierStates: old.earlierStates)
    }

    /// pending 0, running 1, ended 2: the view further along is the fresher one.
    static func progress(_ row: Row) -> Int {
        let state = SlurmValues.state(row.rawState).state
        return state.isTerminal ? 2 : state == .running ? 1 : 0
    }

    static func group(_ rows: [Row]) -> [String: Group] {
        var groups: [String: Group] = [:]
        for row in rows {
            var group = groups[row.id.base] ?? Group()
            if let tasks = row.id.tasks {
                for index in tasks { attach(row, to: &group.tasks[index]) }
            } else {
                attach(row, to: &group.plain)
            }
            groups[row.id.base] = group
        }
        return groups
    }

    static func attach(_ row: Row, to slot: inout Incarnation?) {
        if row.id.step == nil {
            // a new allocation row for the same id is a newer run (requeue, preemption)
            let earlier = slot.map { $0.earlierStates + [$0.alloc.rawState] } ?? []
            slot = Incarnation(alloc: row, earlierStates: earlier)
        } else if slot != nil {
            slot!.steps.append(row)
        }
        // a step row before any allocation row cannot be attributed: skipped
    }

    // MARK: - statuses

    /// The status of one job or task from its allocation and step rows.
    static func status(of run: Incarnation, ref: JobRef) -> JobStatus {
        let alloc = run.alloc
        var (state, reason) = SlurmValues.state(alloc.rawState)
        // The job can look COMPLETED/FAILED while a step was OOM-killed (an srun step, or the
        // batch step under cgroup v1): the memory limit is the real cause.
        if state == .succeeded || state == .failed,
           let oom = run.steps.first(where: { SlurmValues.baseState($0.rawState) == "OUT_OF_MEMORY" || $0.exit?.signal == 125 })
            ?? (alloc.derived?.signal == 125 ? alloc : nil) {
            state = .oom
            reason = oom.id.step.map { "step \($0) ran out of memory" } ?? "a step ran out of memory"
        }
        if state == .pending {
            let requeued = run.earlierStates.contains {
                ["REQUEUED", "PREEMPTED", "REQUEUE_HOLD", "REQUEUE_FED"].contains(SlurmValues.baseState($0))
            }
            let parts = [requeued && reason == nil ? "requeued" : reason, alloc.reason].compactMap { $0 }
            reason = parts.isEmpty ? nil : parts.joined(separator: "; ")
        } else if reason == nil, state != .running, state != .succeeded {
            reason = alloc.reason
        }
        let signal: Int32? = (alloc.exit?.signal).flatMap { $0 == 0 ? nil : $0 }
        let rss = ([alloc.maxRSS] + run.steps.map(\.maxRSS)).compactMap { $0 }.max()
        return JobStatus(ref: ref, state: state, rawState: alloc.rawState, reason: reason,
                         exitCode: alloc.exit?.code, signal: signal,
                         startedAt: alloc.start, endedAt: state.isTerminal ? alloc.end : nil,
                         elapsedSeconds: alloc.elapsed, timeLimitSeconds: alloc.timeLimit,
                         maxRSSMB: rss, requestedMemoryMB: alloc.reqMem)
    }

    /// Failure states in the order that wins a tie when summarising an array.
    static let severity: [JobState] = [.oom, .timeout, .nodeFail, .preempted, .failed, .cancelled, .lost]

    /// One status for an array: tasks listed; the job is running while any task runs, pending
    /// while any waits, succeeded when all did, else the most common failure among the tasks.
    static func arrayStatus(_ tasks: [Int: Incarnation], ref: JobRef) -> JobStatus {
        let per = tasks.keys.sorted().map { ($0, status(of: tasks[$0]!, ref: ref)) }
        let taskStatuses = per.map { index, s in
            TaskStatus(index: index, state: s.state, rawState: s.rawState, exitCode: s.exitCode,
                       message: s.reason ?? s.signal.map { "killed by signal \($0)" })
        }
        let states = per.map(\.1.state)
        var counts: [String: Int] = [:]
        for (_, s) in per { counts[SlurmValues.baseState(s.rawState), default: 0] += 1 }
        let raw = "ARRAY " + counts.keys.sorted().map { "\($0):\(counts[$0]!)" }.joined(separator: " ")

        let state: JobState
        var reason: String?
        if states.contains(.running) {
            state = .running
        } else if let pending = per.first(where: { $0.1.state == .pending }) {
            state = .pending; reason = pending.1.reason
        } else if states.allSatisfy({ $0 == .succeeded }) {
            state = .succeeded
        } else {
            var tally: [JobState: Int] = [:]
            for s in states where s != .succeeded { tally[s, default: 0] += 1 }
            state = tally.keys.max { a, b in
                tally[a]! != tally[b]! ? tally[a]! < tally[b]!
                    : (severity.firstIndex(of: a) ?? 99) > (severity.firstIndex(of: b) ?? 99)
            }!
            let bad = per.filter { $0.1.state != .succeeded }.map { String($0.0) }
            reason = "\(bad.count) of \(per.count) tasks did not succeed (task\(bad.count == 1 ? "" : "s") "
                + bad.prefix(10).joined(separator: ", ") + (bad.count > 10 ? ", ..." : "") + ")"
        }
        let first = per.first { $0.1.state == state }?.1
        let all = per.map(\.1)
        return JobStatus(ref: ref, state: state, rawState: raw, reason: reason,
                         exitCode: state.isTerminal ? first?.exitCode : nil, signal: state.isTerminal ? first?.signal : nil,
                         startedAt: all.compactMap(\.startedAt).min(),
                         endedAt: state.isTerminal ? all.compactMap(\.endedAt).max() : nil,
                         elapsedSeconds: all.compactMap(\.elapsedSeconds).max(),
                         timeLimitSeconds: all.compactMap(\.timeLimitSeconds).first,
                         maxRSSMB: all.compactMap(\.maxRSSMB).max(),
                         requestedMemoryMB: all.compactMap(\.requestedMemoryMB).first, tasks: taskStatuses)
    }
}
