import Foundation
import ExptModel
import GitKit

/// Untracked files that look like secrets, which expt refuses to commit on the user's behalf
/// (issue 10, R5: fix-and-relaunch committed and pushed a new `.env`). By name (`.env`, private
/// keys, credential files) or by content (a line the Redactor would mask). Tracked files are
/// the user's own choice and are left alone; ignored files never reach a commit.
enum SecretFiles {
    /// Base names (lowercased) that hold secrets by convention.
    static let names: Set<String> = [".env", ".netrc", ".pgpass", ".npmrc", ".pypirc", ".git-credentials", "credentials",
                                     "credentials.json", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".htpasswd"]
    static let extensions: Set<String> = ["pem", "key", "p12", "pfx", "jks", "keystore", "kdbx", "ppk"]
    /// `.env.local` and the like are secrets; these suffixes are the shared templates.
    static let envTemplates: Set<String> = ["example", "sample", "template", "dist", "defaults"]
    /// Content is read only from files this small, and only this much of each.
    static let maxScannedFile = 1 << 20, scannedBytes = 256 << 10

    /// Why `relPath` looks like a secret, or nil.
    static func reason(path: String, relPath: String) -> String? {
        let base = (relPath as NSString).lastPathComponent.lowercased()
        if names.contains(base) { return "its name (\(base)) is a secret file's" }
        if base.hasPrefix(".env."), !envTemplates.contains(String(base.dropFirst(5))) { return "its name (\(base)) is an environment file's" }
        let ext = (base as NSString).pathExtension
        if extensions.contains(ext) { return "its extension (.\(ext)) is a key or credential store's" }
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
              (attrs[.type] as? FileAttributeType) == .typeRegular,
              let size = attrs[.size] as? Int, size <= maxScannedFile,
              let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: scannedBytes)) ?? Data()
        guard !data.contains(0) else { return nil }   // binary
        return PushScan.firstSecretLine(String(decoding: data, as: UTF8.self)).map { "line \($0) looks like a secret" }
    }

    /// Throws when the worktree has an untracked file that looks like a secret and that a
    /// commit of everything would add; `excluding` is what that commit leaves out.
    static func refuseUntracked(in repo: Repository, excluding: (String) -> Bool = { _ in false }) throws {
        try refuseUntracked(try repo.status(includeUntracked: true, workdirOnly: true), in: repo, excluding: excluding)
    }

    /// The same check over a status already read.
    static func refuseUntracked(_ status: [StatusEntry], in repo: Repository, excluding: (String) -> Bool = { _ in false }) throws {
        let untracked = status.filter { $0.change == .untracked && !$0.path.hasSuffix("/") && !excluding($0.path) }
        for entry in untracked.sorted(by: { $0.path < $1.path }) {
            if let why = reason(path: repo.workdir + "/" + entry.path, relPath: entry.path) {
                throw ExptError(.invalidInput, "refusing to commit the untracked file \(entry.path): \(why)",
                                hint: "expt never commits a secret for you: add it to .gitignore (or .git/info/exclude), or, if it is meant to be shared, commit it yourself with git")
            }
        }
    }
}
