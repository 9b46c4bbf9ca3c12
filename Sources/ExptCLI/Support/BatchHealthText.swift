import ExptDiagnosis

/// Batch health in words: "degraded — 3 of 40 tasks failed: oom_host 2 (tasks 4, 9), timeout 1 (task 7)".
enum BatchHealthText {
    static func render(_ b: BatchHealthReport) -> String {
        let groups = b.byCategory.map { c in
            "\(c.category.rawValue) \(c.count) (task\(c.tasks.count == 1 ? "" : "s") \(c.tasks.map(String.init).joined(separator: ", ")))"
        }
        return "Batch: \(b.verdict.rawValue) — \(b.failed) of \(b.total) tasks failed" + (groups.isEmpty ? "" : ": " + groups.joined(separator: ", "))
    }
}
