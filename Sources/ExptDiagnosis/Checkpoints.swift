import Foundation

/// Finds checkpoints a run left behind, so a diagnosis can say what to resume from.
public enum CheckpointFinder {
    /// File extensions and directory-name prefixes that hold a checkpoint.
    static let extensions: Set<String> = ["ckpt", "pt", "pth", "safetensors", "bin", "pkl", "h5", "keras", "npz", "msgpack"]
    static let directoryPrefixes = ["checkpoint-", "checkpoint_", "ckpt-", "ckpt_", "step-", "step_", "global_step", "epoch-", "epoch_"]

    /// Checkpoints under `directories` (searched `maxDepth` levels deep, at most `maxEntries`
    /// entries looked at), oldest first by modification time.
    public static func find(in directories: [String], maxDepth: Int = 3, maxEntries: Int = 20_000) -> [String] {
        let fm = FileManager.default
        var found: [(String, Date)] = []
        var seen = 0
        func visit(_ dir: String, depth: Int) {
            guard depth <= maxDepth, seen < maxEntries,
                  let names = try? fm.contentsOfDirectory(atPath: dir) else { return }
            for name in names.sorted() where !name.hasPrefix(".") {
                seen += 1
                if seen > maxEntries { return }
                let path = dir + "/" + name
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDir) else { continue }
                let lower = name.lowercased()
                let mtime = ((try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
                if isDir.boolValue {
                    if directoryPrefixes.contains(where: { lower.hasPrefix($0) }) { found.append((path, mtime)) } else {
                        visit(path, depth: depth + 1)
                    }
                } else if extensions.contains((lower as NSString).pathExtension) {
                    found.append((path, mtime))
                }
            }
        }
        for d in directories { visit(d, depth: 0) }
        return found.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0)
    }
}
