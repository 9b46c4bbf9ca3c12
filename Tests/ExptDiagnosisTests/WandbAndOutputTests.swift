import Foundation
import XCTest
@testable import ExptDiagnosis

/// W&B run directories, JSON output and the human rendering.
final class WandbAndOutputTests: XCTestCase {
    var wandbFixture: URL { TestPaths.sharedFixtures.appendingPathComponent("wandb/local-offline-0.31.0/wandb") }

    func testRealOfflineRunDirectories() throws {
        guard FileManager.default.fileExists(atPath: wandbFixture.path) else {
            throw XCTSkip("skipping: \(wandbFixture.path) does not exist")
        }
        let failed = wandbFixture.appendingPathComponent("offline-run-20261122_223154-vof2jx04").path
        let d = try sharedDiagnoser.diagnose(DiagnosisInput(wandbDir: failed))
        XCTAssertEqual(d.category, .codeError)
        XCTAssertEqual(d.evidence.first?.text, "RuntimeError: simulated failure for fixture")
        XCTAssertTrue(d.evidence.first!.file.hasSuffix("vof2jx04/files/output.log"))
        XCTAssertEqual(d.progress?.lastStep, 2)
        XCTAssertEqual(d.progress?.lastLoss ?? 0, 0.3333, accuracy: 1e-9)

        // wandb/ itself resolves through latest-run (here the SIGKILLed run: one line, no evidence).
        let latest = try sharedDiagnoser.diagnose(DiagnosisInput(wandbDir: wandbFixture.path,
                                                                 scheduler: SchedulerFacts(state: "failed", exitCode: 137)))
        XCTAssertEqual(latest.category, .oomHost)
        XCTAssertTrue(latest.explanation.isEmpty == false)
    }

    func testSummaryAndConfigOfAnOnlineRun() throws {
        let run = try makeTempDir(self).appendingPathComponent("wandb/run-20250101_000000-abcd1234")
        let files = run.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        try "step 1 loss 0.9\nTraining completed.\n".write(to: files.appendingPathComponent("output.log"), atomically: true, encoding: .utf8)
        try #"{"_step": 120, "epoch": 1, "train/loss": NaN, "_runtime": 50}"#
            .write(to: files.appendingPathComponent("wandb-summary.json"), atomically: true, encoding: .utf8)
        try "_wandb:\n  value:\n    cli_version: 0.16.0\nbatch_size:\n  desc: null\n  value: 32\ngradient_accumulation_steps:\n  value: 4\nmax_steps:\n  value: 10000\n"
            .write(to: files.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let summary = try XCTUnwrap(WandbRun.read(run.deletingLastPathComponent().path))
        XCTAssertEqual(summary.config.batchSize, 32)
        XCTAssertEqual(summary.config.gradAccumulation, 4)
        XCTAssertEqual(summary.config.expectedSteps, 10000)
        XCTAssertEqual(summary.summary.lastStep, 120)
        XCTAssertEqual(summary.summary.lossTrend, "nan")

        let d = try sharedDiagnoser.diagnose(DiagnosisInput(wandbDir: run.path))
        // The run "completed", but the summary's final loss is NaN, and it stopped far short of max_steps.
        XCTAssertEqual(d.category, .nanLoss, d.render(explain: true))
        XCTAssertTrue(d.lossIsNaN)
        XCTAssertTrue(d.hits.contains { $0.rule == "fact:steps-short" })
    }

    func testNewestRunDirIsChosenWithoutLatestRun() throws {
        let root = try makeTempDir(self)
        for name in ["run-20250101_000000-aaaa1111", "offline-run-20250301_000000-cccc3333", "run-20250201_000000-bbbb2222"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(name + "/files"), withIntermediateDirectories: true)
        }
        XCTAssertEqual(WandbRun.locate(root.path).map { ($0 as NSString).lastPathComponent }, "offline-run-20250301_000000-cccc3333")
    }

    func testJSONHasSnakeCaseKeysAndExplicitNulls() throws {
        let d = try diagnose(fixture: "oom_gpu_traceback.log", run: RunFacts(batchSize: 32, gradAccumulation: 4))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: try d.jsonData()) as? [String: Any])
        XCTAssertEqual(object["category"] as? String, "oom_gpu")
        XCTAssertTrue(object.keys.contains("secondary"))
        XCTAssertTrue(object["secondary"] is NSNull)
        XCTAssertEqual(object["resumable"] as? Bool, false)
        let evidence = try XCTUnwrap(object["evidence"] as? [[String: Any]])
        XCTAssertEqual(evidence.first?["line"] as? Int, 4)
        XCTAssertEqual(evidence.first?["file"] as? String, "oom_gpu_traceback.log")
        XCTAssertNotNil(evidence.first?["text"] as? String)
        let remedy = try XCTUnwrap(object["remedy"] as? [String: Any])
        XCTAssertEqual(remedy["kind"] as? String, "escalate_resources")
        XCTAssertNotNil(remedy["description"] as? String)
        let change = try XCTUnwrap(remedy["change"] as? [String: Any])
        XCTAssertEqual(change["batch_size"] as? Int, 24)
        XCTAssertEqual(change["grad_accumulation"] as? Int, 6)
    }

    func testJSONEncodesNaNLoss() throws {
        let d = try diagnose(fixture: "nan_loss_logged.log")
        let text = String(decoding: try d.jsonData(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""last_loss" : "nan""#), text)
    }

    func testRender() throws {
        let d = try diagnose(fixture: "timeout_slurm.log", run: RunFacts(timeLimitSeconds: 7200), checkpoints: ["ckpt/last.pt"])
        XCTAssertEqual(d.render(explain: false), """
        timeout — resumable from ckpt/last.pt
        Evidence:
          timeout_slurm.log:3: slurmstepd: error: *** JOB 777 ON gpu12 CANCELLED AT 2025-01-02T03:04:05 DUE TO TIME LIMIT ***
        Remedy (resume): The job hit its time limit: resume with time limit 2h → 3h. Resume from ckpt/last.pt.
        Progress: step 4100, loss 0.3

        """)
        let explained = d.render(explain: true)
        XCTAssertTrue(explained.contains("Why: 'slurm-time-limit' is the highest-precedence fatal hit (100)"), explained)
        XCTAssertTrue(explained.contains("slurm-time-limit → timeout [fatal, precedence 100] at timeout_slurm.log:3"), explained)
    }

}

extension Diagnosis {
    var lossIsNaN: Bool { progress?.lastLoss?.isNaN ?? false }
}
