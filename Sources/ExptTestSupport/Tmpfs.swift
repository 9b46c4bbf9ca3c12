import Foundation

/// A small tmpfs of its own, for the tests of a full disk. Mounting needs root: nil without it,
/// and the test skips saying what it does not exercise. Unmounted (lazily) by `unmount()`.
public final class Tmpfs {
    public let url: URL
    public var path: String { url.path }

    public init?(megabytes: Int) {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("expt-full-\(UUID().uuidString.prefix(8))")
        guard (try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)) != nil else { return nil }
        guard Self.run(["/bin/mount", "-t", "tmpfs", "-o", "size=\(megabytes)M", "tmpfs", url.path]) == 0 else {
            try? FileManager.default.removeItem(at: url)
            return nil
        }
    }

    /// Writes `filler` until the filesystem is full.
    public func fill() throws {
        let filler = path + "/filler"
        guard FileManager.default.createFile(atPath: filler, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        while (try? handle.write(contentsOf: Data(count: 16 << 10))) != nil {}
        try? handle.close()
    }

    public func free() throws { try FileManager.default.removeItem(atPath: path + "/filler") }

    public func unmount() {
        _ = Self.run(["/bin/umount", "-l", path])
        try? FileManager.default.removeItem(at: url)
    }

    static func run(_ argv: [String]) -> Int32 {
        guard let p = try? Process.run(URL(fileURLWithPath: argv[0]), arguments: Array(argv.dropFirst())) else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
