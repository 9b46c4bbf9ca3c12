import Foundation
import ExptModel

/// Where W&B runs of this experiment live: `[wandb]` first, then the `WANDB_*` variables of the
/// job's `[env]` and of this process, then `wandb/settings` of the worktree and of the user
/// (the INI file `wandb init` writes), as the wandb SDK itself resolves them.
public struct WandbLocation: Sendable, Equatable {
    public var entity: String?
    public var project: String?
    public var baseURL: String?
    /// `WANDB_MODE=offline|disabled` in the job's or this process's environment: the service is
    /// never asked.
    public var offline: Bool

    public init(entity: String? = nil, project: String? = nil, baseURL: String? = nil, offline: Bool = false) {
        self.entity = entity; self.project = project; self.baseURL = baseURL; self.offline = offline
    }

    public static func resolve(_ s: TrackerSettings, environment: [String: String], settingsFiles: [String]) -> WandbLocation {
        let files = settingsFiles.compactMap(readSettings)
        func pick(_ configured: String?, _ variable: String, _ key: String) -> String? {
            if let c = configured, !c.isEmpty { return c }
            if let v = s.jobEnvironment[variable], !v.isEmpty { return v }
            if let v = environment[variable], !v.isEmpty { return v }
            return files.lazy.compactMap { $0[key] }.first { !$0.isEmpty }
        }
        let mode = (s.jobEnvironment["WANDB_MODE"] ?? environment["WANDB_MODE"] ?? "").lowercased()
        let disabled = ["true", "1", "yes"].contains((s.jobEnvironment["WANDB_DISABLED"] ?? environment["WANDB_DISABLED"] ?? "").lowercased())
        return WandbLocation(entity: pick(s.entity, "WANDB_ENTITY", "entity"),
                             project: pick(s.project, "WANDB_PROJECT", "project"),
                             baseURL: pick(s.baseURL, "WANDB_BASE_URL", "base_url"),
                             offline: mode == "offline" || mode == "dryrun" || mode == "disabled" || disabled)
    }

    /// The `[default]` section of a wandb settings file (`key = value` lines).
    static func readSettings(_ path: String) -> [String: String]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var out: [String: String] = [:]
        var inDefault = false
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { inDefault = line == "[default]"; continue }
            guard inDefault, !line.hasPrefix("#"), !line.hasPrefix(";"), let eq = line.firstIndex(of: "=") else { continue }
            out[line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    /// The web app in front of the API: wandb.ai for the public service (whose API is
    /// api.wandb.ai), the server itself when self-hosted.
    public var appURL: String {
        guard let b = baseURL, !b.contains("api.wandb.ai") else { return "https://wandb.ai" }
        return b
    }

    /// `entity/project/id`; nil without an entity or a project (expt never guesses the API
    /// key's default entity: it would look in one place while the job logs to another).
    public func path(_ id: String) -> String? {
        guard let entity, let project else { return nil }
        return "\(entity)/\(project)/\(id)"
    }
}

/// W&B run ids for expt runs: `<branch slug>-<run id>-<6 chars of the repository and branch>`,
/// at most 64 characters of `[a-z0-9-]`, so two clones (or two branches that slug alike) never
/// share a W&B run, and the same run always gets the same id.
public enum WandbRunID {
    public static func make(repoRoot: String, branch: String, runID: String) -> String {
        var slug = ""
        for c in branch.lowercased().unicodeScalars {
            let ok = ("a"..."z").contains(c) || ("0"..."9").contains(c)
            slug.unicodeScalars.append(ok ? c : "-")
        }
        while slug.contains("--") { slug = slug.replacingOccurrences(of: "--", with: "-") }
        slug = String(slug.trimmingCharacters(in: CharacterSet(charactersIn: "-")).prefix(40))
        let hash = fnv1a(repoRoot + "\n" + branch)
        let tag = String(String(hash, radix: 36).suffix(6))
        return [slug.isEmpty ? "run" : slug, runID, tag].joined(separator: "-")
    }

    /// FNV-1a, 64 bits: stable across runs and platforms (Swift's `hashValue` is seeded).
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}
