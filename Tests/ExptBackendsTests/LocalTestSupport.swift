import ExptBackends
import ExptCore
import ExptModel
import Foundation
import XCTest

/// Shared setup for the local-backend tests: the built `expt` binary, a temporary runs root,
/// and helpers to wait for real processes.
class LocalBackendTestCase: XCTestCase {
    var root: String!
    var runsRoot: String { "\(root!)/runs" }
    var workdir: String { "\(root!)/work" }
    var backend: LocalBackend!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "local-backend-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
        backend = LocalBackend(supervisorExecutable: try Self.exptBinary(), runsRoot: runsRoot)
        setenv("EXPT_LOCAL_KILL_GRACE", "1", 1)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The `expt` executable next to the test bundle (the build products directory).
    static func exptBinary() throws -> String {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        candidates.append(Bundle(for: LocalBackendTestCase.self).bundleURL.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        for dir in candidates {
            let path = dir.appendingPathComponent("expt").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw ExptError(.notFound, "the expt binary is not in the build products directory (looked in \(candidates.map(\.path)))",
                        hint: "run `swift build --scratch-path .build-local` before `swift test`: the tests run the real binary")
    }

    func spec(_ runID: String, _ command: String, memoryMB: Int? = nil, timeLimit: Int? = nil,
              environment: [String: String] = [:]) -> JobSpec {
        JobSpec(runID: runID, branch: "exp/local", jobName: JobSpec.jobName(runID: runID, branch: "exp/local"),
                workdir: workdir, command: command, environment: environment,
                resources: Resources(memoryMB: memoryMB, timeLimitSeconds: timeLimit), logDir: "\(runsRoot)/\(runID)")
    }

    /// Polls until the job is terminal (or `timeout` passes) and returns the last status.
    func waitForEnd(_ ref: JobRef, backend: LocalBackend? = nil, timeout: TimeInterval = 20,
                    file: StaticString = #filePath, line: UInt = #line) throws -> JobStatus {
        let backend = backend ?? self.backend!
        let deadline = Date().addingTimeInterval(timeout)
        var last: JobStatus?
        while Date() < deadline {
            last = try backend.poll([ref])[ref]
            if let last, last.state.isTerminal { return last }
            usleep(50_000)
        }
        XCTFail("job \(ref.jobID) did not end within \(timeout) s; last status \(String(describing: last))", file: file, line: line)
        throw ExptError(.failure, "timeout")
    }

    /// Polls until `condition` holds, or fails after `timeout`.
    func eventually(_ what: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line,
                    _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what)", file: file, line: line)
    }

    func read(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = read("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}
