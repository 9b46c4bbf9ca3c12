import Foundation
import ExptModel
import GitKit
import ExptTOML
#if canImport(Glibc)
import Glibc
#endif

/// The durable record of a fix: its entry in the branch doc, its commit (with trailers), and
/// the PR comment body. Every text that can leave the machine is redacted.
enum FixRecord {
    /// Appends the plan's Fixes entry unless the doc already has one for the failed run.
    /// Returns whether it added one. Also applies a batch rescaling to the worktree's expt.toml.
    static func appendEntry(plan: FixPlan, ws: Workspace, worktree: String, repo: Repository, now: Date,
                            tracker: String? = nil) throws -> Bool {
        guard let updated = try docWithEntry(plan: plan, ws: ws, worktree: worktree, repo: repo, now: now, tracker: tracker) else { return false }
        if let b = plan.batchSize { try rescaleBatch(worktree + "/expt.toml", batch: b, accumulation: plan.gradAccumulation) }
        try updated.write(toFile: worktree + "/" + ws.docRelativePath(for: plan.branch), atomically: true, encoding: .utf8)
        return true
    }

    /// The branch doc with the plan's entry added, checked against the doc rules; nil when the
    /// doc has the entry already. Writes nothing: the planner calls it too, so a plan whose
    /// entry would be refused is refused before it is journaled, and a rerun plans afresh (R16).
    static func docWithEntry(plan: FixPlan, ws: Workspace, worktree: String, repo: Repository, now: Date,
                             tracker: String? = nil) throws -> String? {
        let rel = ws.docRelativePath(for: plan.branch)
        let path = worktree + "/" + rel
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let doc = BranchDoc(text)
        if doc.fixes.contains(where: { ($0.fields["Failed run"] ?? "").hasPrefix(plan.failedRun + " ") || $0.fields["Failed run"] == plan.failedRun }) {
            return nil
        }
        let entry = BranchDoc.renderFix(number: doc.fixes.count + 1, date: ISO8601.day(now), category: plan.category, fields: [
            ("Failed run", "\(plan.failedRun) (job \(plan.failedJob ?? "?"))"),
            ("Diagnosis", "\(plan.category)\(plan.secondary.map { " (secondary: \($0))" } ?? "") — \(plan.remedyKind)"),
            ("Evidence", "`\(Redactor.redact(plan.evidence).replacingOccurrences(of: "`", with: "'"))`"),
            ("Change", Redactor.redact(plan.message == plan.changeSummary ? plan.changeSummary : "\(plan.message) (\(plan.changeSummary))")),
            ("Commit", "the commit that adds this entry (trailer Expt-Run: \(plan.failedRun))"),
            ("Relaunched as", plan.newRun),
        ] + (tracker.map { [("W&B", Redactor.redact($0))] } ?? []))
        let updated = text.isEmpty ? "# \(plan.branch)\n\n## Fixes\n\n\(entry)\n" : doc.appendingFix(entry)
        let problems = DocRules.check(BranchDoc(updated), against: try headDoc(repo, rel), requiredSections: [])
        if !problems.isEmpty {
            throw ExptError(.invalidInput, "the branch doc \(rel) would break its rules: "
                            + problems.map { $0.message }.joined(separator: "; "), hint: problems.first?.fix)
        }
        return updated
    }

    static func headDoc(_ repo: Repository, _ rel: String) throws -> BranchDoc? {
        try repo.headCommit().flatMap { try repo.fileText(rel, in: $0) }.map(BranchDoc.init)
    }

    /// Commits the worktree (run outputs excluded) with the fix trailers; reuses the commit if
    /// an earlier, interrupted run already made it. Returns the commit id.
    static func commit(plan: FixPlan, ws: Workspace, worktree: String, repo: Repository, now: Date,
                       config: ExptConfig) throws -> String {
        if let head = try repo.headCommit() {
            for c in try repo.log(from: head, hiding: ObjectID(hex: plan.failedCommit), limit: 50)
            where c.trailer("Expt-Run") == plan.failedRun && c.trailer("Expt-Fix") != nil {
                return c.id.hex
            }
        }
        // The same check the pre-commit hook runs: libgit2 runs no hooks.
        let rel = ws.docRelativePath(for: plan.branch)
        let current = BranchDoc((try? String(contentsOfFile: worktree + "/" + rel, encoding: .utf8)) ?? "")
        let problems = DocRules.check(current, against: try headDoc(repo, rel))
        if !problems.isEmpty {
            throw ExptError(.invalidInput, "the branch doc \(rel) fails its check: " + problems.map(\.message).joined(separator: "; "),
                            hint: problems.first?.fix)
        }
        let message = """
        Fix \(plan.category) of \(plan.failedRun): \(Redactor.redact(plan.message).prefix(72))

        Expt-Run: \(plan.failedRun)
        Expt-Diagnosis: \(plan.category)
        Expt-Fix: \(Redactor.redact(plan.changeSummary))
        Expt-Relaunch: \(plan.newRun)

        """
        try StaleLocks.recoverIndexLock(repo, now: now)   // a fix killed mid-commit left it (R13)
        switch try repo.commitAll(message: message, signature: repo.defaultSignature(time: now),
                                  excluding: { isRunOutput($0, config: config) }) {
        case .committed(let id, _): return id.hex
        case .nothingToCommit:
            throw ExptError(.failure, "nothing to commit for the fix of \(plan.failedRun): the doc entry is missing")
        }
    }

    /// The PR comment, from `templates/pr-comment.md`, redacted.
    static func commentBody(plan: FixPlan, commit: String, ws: Workspace, tracker: String? = nil) throws -> String {
        let relaunch = plan.resumeFrom.map { "resuming from \($0)" } ?? "from scratch"
        let body = try Templates(repoRoot: ws.root).render("pr-comment.md", [
            "failed_run": plan.failedRun, "branch": plan.branch, "branch_code": SafeText.code(plan.branch),
            "message": plan.message, "category": plan.category,
            "failed_job": plan.failedJob ?? "?", "evidence": plan.evidence, "change": plan.changeSummary,
            "commit": commit, "new_run": plan.newRun, "relaunch": relaunch,
            "wandb": tracker.map { "\n**W&B:** \($0)\n" } ?? "",
        ])
        return Redactor.redact(body)
    }

    /// Checkpoints and W&B directories are outputs of runs, never part of a fix commit.
    static func isRunOutput(_ path: String, config: ExptConfig?) -> Bool {
        RunOutputs(checkpointGlob: config?.checkpointGlob, wandbDir: config?.wandbDir).contains(path)
    }

    /// Sets `run.batch_size` (and `run.grad_accumulation`) in the worktree's expt.toml, where
    /// the parser says each key is: in a `[run]` section, as `run.key = …` dotted keys, or in
    /// a new `[run]` section when the file has none. What cannot be edited safely (an inline
    /// table, an unusual line) is an error saying what to change by hand, and the result is
    /// parsed again: the fix never claims a change it did not make.
    static func rescaleBatch(_ file: String, batch: Int, accumulation: Int?) throws {
        let text = try FileManager.default.fileExists(atPath: file) ? String(contentsOfFile: file, encoding: .utf8) : ""
        var wanted = [("batch_size", batch)]
        if let a = accumulation { wanted.append(("grad_accumulation", a)) }
        let byHand = "set " + wanted.map { "run.\($0.0) = \($0.1)" }.joined(separator: " and ") + " in \(file) by hand, then run fix-and-relaunch again"
        func refuse(_ line: Int?, _ why: String) -> ExptError {
            ExptError(.invalidInput, "cannot rescale the batch in \(file)\(line.map { ":\($0)" } ?? ""): \(why)", hint: byHand)
        }
        let root: TOMLTable
        do { root = try TOML.parse(text, file: file) } catch { throw refuse(nil, "it does not parse: \(error)") }

        let cr = text.contains("\r\n") ? "\r" : ""
        var lines = text.components(separatedBy: "\n")
        var missing: [(String, Int)] = []
        var insertAt: Int?
        var dotted = false
        switch root["run"] {
        case nil:
            missing = wanted
        case .table(let run)?:
            switch run.definition {
            case .inline:
                throw refuse(root.line(of: "run"), "`run` is an inline table (`run = { … }`), which expt does not rewrite")
            case .header: insertAt = run.line          // just below the [run] header
            case .dottedKeys: insertAt = run.line - 1; dotted = true   // just above the first run.* line
            case .implicit: break                      // only [run.*] headers: add a [run] section
            }
            for (key, value) in wanted {
                guard let line = run.line(of: key) else { missing.append((key, value)); continue }
                guard case .integer? = run[key] else { throw refuse(line, "run.\(key) is not an integer") }
                guard line >= 1, line <= lines.count,
                      let edited = replacingValue(in: lines[line - 1], keys: dotted ? ["run", key] : [key], with: value) else {
                    throw refuse(line, "the line of run.\(key) is not a plain `\(dotted ? "run." : "")\(key) = <integer>`")
                }
                lines[line - 1] = edited
            }
        case let other?:
            throw refuse(root.line(of: "run"), "`run` is \(other.typeNameWithArticle), not a table")
        }

        var updated: String
        if missing.isEmpty {
            updated = lines.joined(separator: "\n")
        } else if let at = insertAt {
            lines.insert(contentsOf: missing.map { "\(dotted ? "run." : "")\($0.0) = \($0.1)\(cr)" }, at: at)
            updated = lines.joined(separator: "\n")
        } else {
            updated = lines.joined(separator: "\n")
            if !updated.isEmpty && !updated.hasSuffix("\n") { updated += cr + "\n" }
            updated += (updated.isEmpty ? "" : cr + "\n") + "[run]" + cr + "\n"
            updated += missing.map { "\($0.0) = \($0.1)\(cr)\n" }.joined()
        }

        // Parse the result: only a file that now says what the fix records may be written.
        let check: TOMLTable?
        do { check = try TOML.parse(updated, file: file).table("run") } catch { throw refuse(nil, "the edit would break the file: \(error)") }
        for (key, value) in wanted where (try? check?.int(key)) != value {
            throw refuse(check?.line(of: key), "the edit did not set run.\(key)")
        }
        try updated.write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// `line` with the value of `keys = <value>` replaced, the key spelled as written (spaces
    /// around dots, quotes) and any comment kept; nil unless the line is exactly that.
    static func replacingValue(in line: String, keys: [String], with value: Int) -> String? {
        guard let equals = line.firstIndex(of: "=") else { return nil }
        let keyPart = line[..<equals].filter { $0 != " " && $0 != "\t" && $0 != "\"" && $0 != "'" }
        guard keyPart == keys.joined(separator: ".") else { return nil }
        var start = line.index(after: equals)
        while start < line.endIndex, line[start] == " " || line[start] == "\t" { start = line.index(after: start) }
        var end = start
        while end < line.endIndex, !" \t#\r".contains(line[end]) { end = line.index(after: end) }
        guard start < end, case .integer? = (try? TOML.parse("v = " + String(line[start..<end])))?["v"] else { return nil }
        return String(line[..<start]) + String(value) + String(line[end...])
    }
}
