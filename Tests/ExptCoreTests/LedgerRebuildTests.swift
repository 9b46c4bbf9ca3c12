import XCTest
import ExptModel
@testable import ExptCore

/// A deleted ledger (issue 10, R2): refused next to run directories, rebuilt from their
/// manifests, and run ids never land on a directory that exists.
final class LedgerRebuildTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ledger-rebuild-\(UUID().uuidString)/expt"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent)
    }

    func launch(_ ledger: Ledger, _ branch: String, parent: String? = nil) throws -> RunRecord {
        let run = try ledger.recordIntent(branch: branch, backend: "slurm", commit: "abc123", profile: nil,
                                          resources: Resources(memoryMB: 2048), parentRun: parent) { id in
            JobSpec(runID: id, branch: branch, jobName: JobSpec.jobName(runID: id, branch: branch), workdir: "/wt",
                    command: "python train.py", resources: Resources(memoryMB: 2048), logDir: "\(self.dir!)/runs/\(id)")
        }
        return try ledger.recordSubmitted(runID: run.id, ref: JobRef(backend: "slurm", jobID: "90\(run.seq)"))
    }

    func testEveryLaunchLeavesAManifestAndARefusedOneDoesNot() throws {
        let ledger = try Ledger(dir: dir)
        let r1 = try launch(ledger, "exp/a")
        let manifest = dir + "/runs/r1/run.json"
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest))) as? [String: Any])
        XCTAssertEqual(json["jobID"] as? String, "901")
        XCTAssertEqual(json["branch"] as? String, "exp/a")
        XCTAssertEqual(r1.state, .pending)
        let refused = try ledger.recordIntent(branch: "exp/a", backend: "slurm", commit: "abc", profile: nil,
                                              resources: Resources(), parentRun: nil) { id in
            JobSpec(runID: id, branch: "exp/a", jobName: "j", workdir: "/wt", command: "x", resources: Resources(),
                    logDir: "\(self.dir!)/runs/\(id)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/runs/\(refused.id)/run.json"), "written at intent")
        try ledger.recordFailedSubmit(runID: refused.id, error: ExptError(.external, "sbatch refused it"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/runs/\(refused.id)/run.json"))
    }

    func testAMissingLedgerBesideRunDirectoriesIsRefusedAndNothingIsCreated() throws {
        do { let ledger = try Ledger(dir: dir); _ = try launch(ledger, "exp/a"); _ = try launch(ledger, "exp/b") }
        try FileManager.default.removeItem(atPath: dir + "/" + Ledger.fileName)
        try? FileManager.default.removeItem(atPath: dir + "/" + Ledger.fileName + "-wal")
        try? FileManager.default.removeItem(atPath: dir + "/" + Ledger.fileName + "-shm")
        XCTAssertThrowsError(try Ledger(dir: dir)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("is missing, but 2 run directories exist"), message)
            XCTAssertTrue(message.contains("(r1 … r2)"), message)
            XCTAssertTrue((error as? ExptError)?.hint?.contains("expt rebuild-ledger") ?? false)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + Ledger.fileName))
    }

    func testARebuildRecoversEveryLaunchedRunAndTheCounterGoesOn() throws {
        do {
            let ledger = try Ledger(dir: dir)
            _ = try launch(ledger, "exp/a")
            _ = try launch(ledger, "exp/b")
            _ = try launch(ledger, "exp/a", parent: "r1")
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir + "/" + Ledger.fileName + suffix) }
        try FileManager.default.createDirectory(atPath: dir + "/runs/r9", withIntermediateDirectories: true)

        let dry = try Ledger.rebuild(dir: dir, dryRun: true)
        XCTAssertEqual(dry.runs.map(\.id), ["r1", "r2", "r3"])
        XCTAssertEqual(dry.skipped, [dir + "/runs/r9"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + Ledger.fileName), "a dry run writes nothing")

        let done = try Ledger.rebuild(dir: dir, dryRun: false)
        XCTAssertEqual(done.runs.count, 3)
        let ledger = try Ledger(dir: dir)
        let a = try ledger.runs(branch: "exp/a")
        XCTAssertEqual(a.map(\.id), ["r1", "r3"])
        XCTAssertEqual(a.map(\.attempt), [1, 2])
        XCTAssertEqual(a.last?.parentRun, "r1")
        XCTAssertEqual(a.last?.jobID, "903")
        XCTAssertEqual(a.last?.state, .pending, "the next poll asks the backend")
        XCTAssertEqual(try ledger.reserveRunID(), "r10", "past every recovered run and past the unknown r9 directory")
        XCTAssertThrowsError(try Ledger.rebuild(dir: dir, dryRun: false)) { error in
            XCTAssertEqual((error as? ExptError)?.kind, .conflict)
        }
    }

    func testARunIDIsNeverGivenToADirectoryThatExists() throws {
        let ledger = try Ledger(dir: dir)
        try FileManager.default.createDirectory(atPath: dir + "/runs/r1", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/runs/r2", withIntermediateDirectories: true)
        XCTAssertEqual(try launch(ledger, "exp/a").id, "r3")
    }
}
