import Foundation
import ExptModel
import ExptTOML

/// `[wandb]` of expt.toml (docs/trackers/wandb.md). Unknown keys are errors with file:line,
/// as everywhere in expt.toml.
struct WandbTable: Decodable {
    var entity: String?
    var project: String?
    var baseUrl: String?
    var sweep: String?
    var timeout: Seconds?
    var python: String?

    func settings(_ t: TOMLTable, env: [String: String]) throws -> TrackerSettings {
        var s = TrackerSettings()
        for (key, value) in [("entity", entity), ("project", project)] {
            if let v = value, v.isEmpty || v.contains("/") || v.contains(where: \.isWhitespace) {
                throw t.error("'\(v)' is not a W&B \(key) name (no slashes or spaces)", key: key)
            }
        }
        if let u = baseUrl, !(u.hasPrefix("https://") || u.hasPrefix("http://")) {
            throw t.error("'\(u)' is not a URL like https://wandb.example.org", key: "base_url")
        }
        if let sw = sweep, sw.split(separator: "/").count != 3 || sw.contains(where: \.isWhitespace) {
            throw t.error("'\(sw)' is not a sweep path like entity/project/sweep-id", key: "sweep")
        }
        if let t0 = timeout?.value, t0 < 5 || t0 > 600 {
            throw t.error("timeout must be between 5 s and 10 minutes", key: "timeout")
        }
        // [env] reaches the job and wins there: the job would log where expt does not look.
        for (key, value, variable) in [("entity", entity, "WANDB_ENTITY"), ("project", project, "WANDB_PROJECT"), ("base_url", baseUrl, "WANDB_BASE_URL")] {
            if let v = value, let e = env[variable], e != v {
                throw t.error("[wandb] \(key) '\(v)' and [env] \(variable) '\(e)' disagree: the job would log to one and expt look in the other", key: key)
            }
        }
        s.entity = entity; s.project = project
        s.baseURL = baseUrl.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        s.sweep = sweep
        s.timeout = TimeInterval(timeout?.value ?? 20)
        s.python = python ?? "python3"
        s.jobEnvironment = env
        return s
    }
}
