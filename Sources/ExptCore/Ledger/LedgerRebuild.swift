import Foundation
import ExptModel

/// The ledger's recovery path when the file itself is gone (issue 10, R2). Every launch leaves
/// `runs/<id>/run.json`, the run as the ledger recorded it at launch; a missing ledger next to
/// run directories is refused rather than silently recreated (ids would restart at r1 and
/// overwrite those directories; live jobs would be forgotten), and `expt rebuild-ledger`
/// rebuilds it from them. States are then re-learned from the backends by the next poll.
public enum RunManifest {
    public static let fileName = "run.json"

    /// Best effort: a manifest that cannot be written costs only the rebuild of this one run.
    static func write(_ record: RunRecord, runsDir: String) {
        let dir = record.logDir ?? runsDir + "/" + record.id
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(record) else { return }
        try? data.write(to: URL(fileURLWithPath: dir + "/" + fileName), options: .atomic)
    }

    /// The run directories under `runsDir` (`r<n>`), by number.
    static func runDirectories(_ runsDir: String) -> [(seq: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsDir)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("r"), let n = Int(name.dropFirst()), n > 0, "r\(n)" == name else { return nil }
            var isDir: ObjCBool = false
            let path = runsDir + "/" + name
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return nil }
            return (n, path)
        }.sorted { $0.0 < $1.0 }
    }

    /// What a run directory says about its run: its manifest. (A backend's own files are not
    /// read here: the core names no backend.)
    static func read(_ dir: String, seq: Int) -> RunRecord? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let data = FileManager.default.contents(atPath: dir + "/" + fileName),
              let record = try? decoder.decode(RunRecord.self, from: data), record.seq == seq else { return nil }
        return record
    }
}

/// What a rebuild found: the runs it recovered and the directories that hold no record of a
/// launched run (a refused launch, an unreadable manifest); those are left as they are.
public struct LedgerRebuild: Encodable, Sendable {
    public var runs: [RunRecord]
    public var skipped: [String]
}

extension Ledger {
    /// The runs dir beside this ledger (`<state dir>/runs`).
    var runsDir: String { ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("runs") }

    /// A missing ledger beside run directories: refused, naming them and the way out.
    static func refuseMissing(path: String, runsDir: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let dirs = RunManifest.runDirectories(runsDir)
        guard let first = dirs.first, let last = dirs.last else { return }
        let span = dirs.count == 1 ? "r\(first.seq)" : "r\(first.seq) … r\(last.seq)"
        throw ExptError(.failure,
                        "the run ledger \(path) is missing, but \(dirs.count) run director\(dirs.count == 1 ? "y" : "ies") exist in \(runsDir) (\(span)); expt will not start an empty ledger over them (run ids would be reused and live jobs forgotten)",
                        hint: "`expt rebuild-ledger --dry-run` shows what can be recovered from them and `expt rebuild-ledger` rebuilds the ledger; to start afresh instead, move them aside: mv \(runsDir) \(runsDir).old")
    }

    /// Rebuilds a missing ledger from the run directories in `dir/runs`. The new file is built
    /// beside it and linked into place only when complete, so a kill leaves no half ledger
    /// (and never replaces one that appeared meanwhile). `dryRun` only reads.
    public static func rebuild(dir: String, dryRun: Bool, at now: Date = Date()) throws -> LedgerRebuild {
        let path = (dir as NSString).appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: path) {
            throw ExptError(.conflict, "the run ledger \(path) exists; there is nothing to rebuild",
                            hint: "a ledger that is unreadable must be moved aside first (mv \(path) \(path).bad)")
        }
        let runsDir = (dir as NSString).appendingPathComponent("runs")
        var runs: [RunRecord] = []
        var skipped: [String] = []
        var attempts: [String: Int] = [:]
        for (seq, dirPath) in RunManifest.runDirectories(runsDir) {
            guard var record = RunManifest.read(dirPath, seq: seq) else { skipped.append(dirPath); continue }
            attempts[record.branch, default: 0] += 1
            record.attempt = attempts[record.branch]!
            // What it last knew is stale: the next poll asks the backend (a finished job's
            // final state, a live one's progress). A run that never got a job id stays
            // submitting, which the poll reconciles by its job name.
            if record.jobID != nil, record.state != .submitting { record.state = .pending }
            record.rawState = nil; record.reason = nil; record.diagnosis = nil; record.updatedAt = now
            runs.append(record)
        }
        let result = LedgerRebuild(runs: runs, skipped: skipped)
        if dryRun { return result }
        let staging = (dir as NSString).appendingPathComponent(".ledger-rebuild-\(getpid())")
        try? FileManager.default.removeItem(atPath: staging)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        do {
            let fresh = try Ledger(dir: staging)
            // Past every run directory, recovered or not: ids only grow.
            try fresh.importRuns(runs, counter: RunManifest.runDirectories(runsDir).map(\.seq).max() ?? 0)
            try fresh.withDB("finishing the rebuilt ledger") { try $0.query("PRAGMA journal_mode=DELETE") }
        }
        guard link(staging + "/" + fileName, path) == 0 else {
            let why = String(cString: strerror(errno))
            throw ExptError(errno == EEXIST ? .conflict : .failure, "could not put the rebuilt ledger in place at \(path): \(why); nothing was changed",
                            hint: errno == EEXIST ? "another expt command created a ledger meanwhile; run `expt status`" : "check that \(dir) is writable")
        }
        return result
    }

    /// Inserts recovered runs as they are and moves the run-id counter past them.
    func importRuns(_ runs: [RunRecord], counter: Int) throws {
        try write("importing \(runs.count) recovered runs") { db in
            for r in runs {
                try db.query("""
                    INSERT INTO runs(id, seq, branch, attempt, parent_run, backend, job_id, job_name, commit_sha, profile,
                                     resources_json, spec_json, submitted_at, started_at, ended_at, state, log_dir,
                                     tasks_json, created_at, updated_at)
                    VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)
                    """, [.text(r.id), .int(Int64(r.seq)), .text(r.branch), .int(Int64(r.attempt)), .of(r.parentRun),
                          .text(r.backend), .of(r.jobID), .of(r.jobName), .text(r.commit), .of(r.profile),
                          .text(LedgerJSON.encode(r.resources)), r.spec.map { .text(LedgerJSON.encode($0)) } ?? .null,
                          .of(r.submittedAt), .of(r.startedAt), .of(r.endedAt), .text(r.state.rawValue), .of(r.logDir),
                          .of(r.createdAt), .of(r.updatedAt)])
            }
            let top = max(counter, runs.map(\.seq).max() ?? 0)
            try db.query("INSERT INTO counters(name, value) VALUES('run', ?) ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
                         [.int(Int64(top))])
        }
    }
}

extension RunRecord {
    /// Writes this record's manifest and returns it, so a ledger write can end with it.
    func manifested(_ runsDir: String) -> RunRecord {
        RunManifest.write(self, runsDir: runsDir)
        return self
    }
}
