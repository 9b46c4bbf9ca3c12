import Foundation
import ExptTOML
#if canImport(Glibc)
import Glibc
#endif

/// What runs write into a worktree (checkpoints, W&B directories): run output, never part of a
/// commit and never what makes a worktree "dirty" (issue 10, R17). One rule for `launch`,
/// `checkpoint` and fix-and-relaunch's commit.
public struct RunOutputs: Sendable {
    public var checkpointGlob: String?
    public var wandbDir: String?

    public init(checkpointGlob: String?, wandbDir: String?) { self.checkpointGlob = checkpointGlob; self.wandbDir = wandbDir }

    /// From the repository's and the worktree's expt.toml (the worktree's wins), read leniently:
    /// a broken file is reported by the commands that need the whole configuration.
    public static func of(repoRoot: String, worktree: String) -> RunOutputs {
        var out = RunOutputs(checkpointGlob: nil, wandbDir: nil)
        for file in [repoRoot + "/expt.toml", worktree + "/expt.toml"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8), let t = try? TOML.parse(text, file: file) else { continue }
            if let g = try? t.string("checkpoint_glob") { out.checkpointGlob = g }
            if let w = try? t.string("wandb_dir") { out.wandbDir = w }
        }
        return out
    }

    /// True for a path (relative to the worktree) that a run wrote.
    public func contains(_ path: String) -> Bool {
        if let glob = checkpointGlob {
            if fnmatch(glob, path, 0) == 0 { return true }
            let dir = (glob as NSString).deletingLastPathComponent
            if !dir.isEmpty, !dir.contains("*"), path == dir || path.hasPrefix(dir + "/") { return true }
        }
        if let w = wandbDir, path == w || path.hasPrefix(w + "/") { return true }
        return path == "wandb" || path.hasPrefix("wandb/")
    }
}
