import Foundation

/// The job's files, wherever the job runs. expt only ever asks which paths exist and moves a
/// directory aside: research data is never deleted.
public protocol ClusterFiles: Sendable {
    /// The subset of `paths` that exist.
    func existing(_ paths: [String]) throws -> Set<String>
    /// Moves `path` to `destination`, creating the destination's parent; refuses to overwrite.
    func move(_ path: String, to destination: String) throws
}

/// Files of this machine.
public struct LocalFiles: ClusterFiles {
    public init() {}

    public func existing(_ paths: [String]) throws -> Set<String> {
        Set(paths.filter { FileManager.default.fileExists(atPath: $0) })
    }

    public func move(_ path: String, to destination: String) throws {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: destination) else {
            throw ExptError(.conflict, "cannot move \(path) aside: \(destination) already exists", hint: "move or rename it first")
        }
        do {
            try fm.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try fm.moveItem(atPath: path, toPath: destination)
        } catch {
            throw ExptError(.failure, "cannot move \(path) aside to \(destination): \(error.localizedDescription)")
        }
    }
}

/// Files on a host reached through a runner (an exec prefix): `test -e` and `mv -n`, every
/// path an argument of its own.
public struct RemoteFiles: ClusterFiles {
    public let runner: ProcessRunner
    public let hostDescription: String

    public init(runner: ProcessRunner, hostDescription: String) { self.runner = runner; self.hostDescription = hostDescription }

    public func existing(_ paths: [String]) throws -> Set<String> {
        guard !paths.isEmpty else { return [] }
        let r = try runner.run(["sh", "-c", "for p; do [ -e \"$p\" ] && printf '%s\\n' \"$p\"; done; exit 0", "sh"] + paths)
        guard r.status == 0 else {
            throw ExptError(.external, "cannot check files on \(hostDescription): \(r.stderrTail)")
        }
        return Set(r.stdout.split(separator: "\n").map(String.init))
    }

    public func move(_ path: String, to destination: String) throws {
        let parent = (destination as NSString).deletingLastPathComponent
        let r = try runner.run(["sh", "-c", "[ ! -e \"$2\" ] && mkdir -p -- \"$3\" && mv -- \"$1\" \"$2\"", "sh", path, destination, parent])
        guard r.status == 0 else {
            throw ExptError(.failure, "cannot move \(path) aside to \(destination) on \(hostDescription)"
                            + (r.stderrTail.isEmpty ? " (it may already exist)" : ": \(r.stderrTail)"))
        }
    }
}
