import Foundation
import GitKit
#if canImport(Glibc)
import Glibc
#endif

/// The durable record of a fix: its entry in the branch doc, its commit (with trailers), and
/// the PR comment body. Every text that can leave the machine is redacted.
enum FixRecord {
    /// Appends the plan's Fixes entry unless the doc already has one for the failed run.
    /// Returns whether it added one. Also applies a batch rescaling to the worktree's expt.toml.
    static func appendEntry(plan: FixPlan, ws: Workspace, worktree: String, repo: Repository, now: Date) throws -> Bool {
        let rel = ws.docRelativePath(for: plan.branch)
        let path = worktree + "/" + rel
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let doc = BranchDoc(text)
        if doc.fixes.contains(where: { ($0.fields["Failed run"] ?? "").hasPrefix(plan.failedRun + " ") || $0.fields["Failed run"] == plan.failedRun }) {
            return false
        }
        let entry = BranchDoc.renderFix(number: doc.fixes.count + 1, date: ISO8601.day(now), category: plan.category, fields: [
            ("Failed run", "\(plan.failedRun) (job \(plan.failedJob ?? "?"))"),
            ("Diagnosis", "\(plan.category)\(plan.secondary.map { " (secondary: \($0))" } ?? "") — \(plan.remedyKind)"),
            ("Evidence", "`\(Redactor.redact(plan.evidence).replacingOccurrences(of: "`", with: "'"))`"),
            ("Change", Redactor.redact(plan.message == plan.changeSummary ? plan.changeSummary : "\(plan.message) (\(plan.changeSummary))")),
            ("Commit", "the commit that adds this entry (trailer Expt-Run: \(plan.failedRun))"),
            ("Relaunched as", plan.newRun),
        ])
        let updated = text.isEmpty ? "# \(plan.branch)\n\n## Fixes\n\n\(entry)\n" : doc.appendingFix(entry)
        let problems = DocRules.check(BranchDoc(updated), against: try headDoc(repo, rel), requiredSections: [])
        if !problems.isEmpty {
            throw ExptError(.invalidInput, "the branch doc \(rel) would break its rules: "
                            + problems.map { $0.message }.joined(separator: "; "), hint: problems.first?.fix)
        }
        if let b = plan.batchSize { try rescaleBatch(worktree + "/expt.toml", batch: b, accumulation: plan.gradAccumulation) }
        try updated.write(toFile: path, atomically: true, encoding: .utf8)
        return true
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
        switch try repo.commitAll(message: message, signature: repo.defaultSignature(time: now),
                                  excluding: { isRunOutput($0, config: config) }) {
        case .committed(let id, _): return id.hex
        case .nothingToCommit:
            throw ExptError(.failure, "nothing to commit for the fix of \(plan.failedRun): the doc entry is missing")
        }
    }

    /// The PR comment, from `templates/pr-comment.md`, redacted.
    static func commentBody(plan: FixPlan, commit: String, ws: Workspace) throws -> String {
        let relaunch = plan.resumeFrom.map { "resuming from \($0)" } ?? "from scratch"
        let body = try Templates(repoRoot: ws.root).render("pr-comment.md", [
            "failed_run": plan.failedRun, "branch": plan.branch, "message": plan.message, "category": plan.category,
            "failed_job": plan.failedJob ?? "?", "evidence": plan.evidence, "change": plan.changeSummary,
            "commit": commit, "new_run": plan.newRun, "relaunch": relaunch,
        ])
        return Redactor.redact(body)
    }

    /// Checkpoints and W&B directories are outputs of runs, never part of a fix commit.
    static func isRunOutput(_ path: String, config: ExptConfig?) -> Bool {
        if let glob = config?.checkpointGlob {
            if fnmatch(glob, path, 0) == 0 { return true }
            let dir = (glob as NSString).deletingLastPathComponent
            if !dir.isEmpty, !dir.contains("*"), path.hasPrefix(dir + "/") { return true }
        }
        if let w = config?.wandbDir, path == w || path.hasPrefix(w + "/") { return true }
        return path.hasPrefix("wandb/")
    }

    /// Rewrites `batch_size` / `grad_accumulation` in the `[run]` table of expt.toml.
    static func rescaleBatch(_ file: String, batch: Int, accumulation: Int?) throws {
        guard var text = try? String(contentsOfFile: file, encoding: .utf8) else { return }
        var lines = text.components(separatedBy: "\n")
        var inRun = false
        for i in lines.indices {
            let t = lines[i].trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("[") { inRun = t == "[run]" }
            guard inRun else { continue }
            if t.hasPrefix("batch_size") { lines[i] = "batch_size = \(batch)" }
            if let a = accumulation, t.hasPrefix("grad_accumulation") { lines[i] = "grad_accumulation = \(a)" }
        }
        text = lines.joined(separator: "\n")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
    }
}

