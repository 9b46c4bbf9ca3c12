import XCTest
import ExptCore
import ExptModel
@testable import ExptBackends

/// Locates the test fixtures (ours, and the shared real captures next to the checkout).
enum SlurmFixtures {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static func text(_ name: String) throws -> String {
        try String(contentsOf: testsDir.appendingPathComponent("Fixtures/slurm/\(name)"), encoding: .utf8)
    }
    /// `<checkout>/../shared/fixtures/slurm`, when this machine has it.
    static var shared: URL? {
        let url = testsDir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures/slurm")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}

/// Pure parser tests: value formats, state mapping, sacct/squeue grouping.
final class SlurmParserTests: XCTestCase {
    func testDurations() {
        XCTAssertEqual(SlurmValues.seconds("00:01:16"), 76)
        XCTAssertEqual(SlurmValues.seconds("1-02:03:04"), 93784)
        XCTAssertEqual(SlurmValues.seconds("365-00:00:00"), 365 * 86400)
        XCTAssertEqual(SlurmValues.seconds("1:16"), 76)          // squeue abbreviates to M:SS
        XCTAssertEqual(SlurmValues.seconds("00:00.123"), 0)
        XCTAssertNil(SlurmValues.seconds("UNLIMITED"))
        XCTAssertNil(SlurmValues.seconds("Partition_Limit"))
        XCTAssertNil(SlurmValues.seconds(""))
        XCTAssertEqual(SlurmValues.timeLimit(3600), "01:00:00")
        XCTAssertEqual(SlurmValues.timeLimit(86400 + 61), "1-00:01:01")
    }

    func testMemory() {
        XCTAssertEqual(SlurmValues.megabytes("4544K"), 5)
        XCTAssertEqual(SlurmValues.megabytes("200544K"), 196)
        XCTAssertEqual(SlurmValues.megabytes("4G"), 4096)
        XCTAssertEqual(SlurmValues.megabytes("4000M"), 4000)
        XCTAssertEqual(SlurmValues.megabytes("4000Mn"), 4000)
        XCTAssertEqual(SlurmValues.megabytes("2000Mc"), 2000)
        XCTAssertEqual(SlurmValues.megabytes("1.5G"), 1536)
        XCTAssertEqual(SlurmValues.megabytes("0"), 0)
        XCTAssertNil(SlurmValues.megabytes(""))
        XCTAssertNil(SlurmValues.megabytes("16?"))   // sacct before slurmdbd has the start record
    }

    func testDatesAreLocalTime() {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone.current
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        for text in ["2026-11-22T22:30:50", "2000-02-29T00:00:00", "1999-12-31T23:59:59", "2026-07-01T12:00:00"] {
            XCTAssertEqual(SlurmValues.date(text), f.date(from: text), text)
        }
        for text in ["Unknown", "None", "N/A", "", "2026-13-01T00:00:00", "2026-11-22 22:30:50"] {
            XCTAssertNil(SlurmValues.date(text), text)
        }
    }

    func testExitCodesAndIDs() {
        XCTAssertTrue(SlurmValues.exitCode("0:125")! == (0, 125))
        XCTAssertTrue(SlurmValues.exitCode("1:0")! == (1, 0))
        XCTAssertNil(SlurmValues.exitCode(""))
        XCTAssertEqual(SlurmValues.jobID("123"), .init(base: "123", tasks: nil, step: nil))
        XCTAssertEqual(SlurmValues.jobID("123.batch"), .init(base: "123", tasks: nil, step: "batch"))
        XCTAssertEqual(SlurmValues.jobID("123_4.0"), .init(base: "123", tasks: [4], step: "0"))
        XCTAssertEqual(SlurmValues.jobID("123_[2-3]"), .init(base: "123", tasks: [2, 3], step: nil))
        XCTAssertEqual(SlurmValues.jobID("123_[0-9%2]")?.tasks, Array(0...9))
        XCTAssertEqual(SlurmValues.jobID("123+1.0")?.base, "123")
        XCTAssertNil(SlurmValues.jobID("abc"))
        XCTAssertEqual(SlurmValues.indices("0-3,7,9-13:2"), [0, 1, 2, 3, 7, 9, 11, 13])
        XCTAssertEqual(SlurmValues.indexList([7, 0, 1, 2, 3, 9]), "0-3,7,9")
    }

    func testStateMapping() {
        let cases: [(String, JobState, String?)] = [
            ("PENDING", .pending, nil), ("RUNNING", .running, nil), ("COMPLETING", .running, nil),
            ("CONFIGURING", .running, nil), ("COMPLETED", .succeeded, nil), ("FAILED", .failed, nil),
            ("OUT_OF_MEMORY", .oom, nil), ("TIMEOUT", .timeout, nil), ("PREEMPTED", .preempted, nil),
            ("NODE_FAIL", .nodeFail, nil), ("CANCELLED by 10304007", .cancelled, "cancelled by 10304007"),
            ("CANCELLED+", .cancelled, nil), ("REQUEUED", .pending, "requeued"),
            ("REQUEUE_HOLD", .pending, "requeued"), ("REQUEUE_FED", .pending, "requeued"),
            ("BOOT_FAIL", .failed, "boot_fail"), ("DEADLINE", .failed, "deadline"),
        ]
        for (raw, state, reason) in cases {
            let mapped = SlurmValues.state(raw)
            XCTAssertEqual(mapped.state, state, raw)
            XCTAssertEqual(mapped.reason, reason, raw)
        }
        XCTAssertFalse(SlurmValues.state("SOMETHING_NEW").state.isTerminal)
    }

    func testSacctStates() throws {
        let s = try SlurmAccounting.parseSacct(try SlurmFixtures.text("sacct-states.txt"))
        XCTAssertEqual(s.count, 7)
        XCTAssertEqual(s["1"]?.state, .succeeded)
        XCTAssertEqual(s["1"]?.maxRSSMB, 5)
        XCTAssertEqual(s["1"]?.requestedMemoryMB, 512)
        XCTAssertEqual(s["1"]?.elapsedSeconds, 5)
        XCTAssertNil(s["1"]?.timeLimitSeconds)
        XCTAssertNotNil(s["1"]?.endedAt)
        XCTAssertEqual(s["2"]?.state, .oom)
        XCTAssertEqual(s["2"]?.signal, 125)
        XCTAssertEqual(s["2"]?.maxRSSMB, 196)
        XCTAssertEqual(s["3"]?.state, .timeout)
        XCTAssertEqual(s["3"]?.timeLimitSeconds, 60)
        XCTAssertEqual(s["3"]?.elapsedSeconds, 76)
        // COMPLETED job whose srun step was OOM-killed (DerivedExitCode 0:125)
        XCTAssertEqual(s["4"]?.state, .oom)
        XCTAssertEqual(s["4"]?.rawState, "COMPLETED")
        XCTAssertEqual(s["4"]?.reason, "step 0 ran out of memory")
        XCTAssertEqual(s["5"]?.state, .failed)
        XCTAssertEqual(s["5"]?.exitCode, 1)
        XCTAssertNil(s["5"]?.signal)
        XCTAssertEqual(s["15"]?.state, .cancelled)
        XCTAssertEqual(s["15"]?.rawState, "CANCELLED by 0")
        XCTAssertEqual(s["16"]?.state, .preempted)
        XCTAssertTrue(s.values.allSatisfy { $0.tasks.isEmpty })
    }

    func testSacctArray() throws {
        let s = try SlurmAccounting.parseSacct(try SlurmFixtures.text("sacct-array.txt"))
        let done = try XCTUnwrap(s["6"])
        XCTAssertEqual(done.state, .failed)
        XCTAssertEqual(done.tasks.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(done.tasks.map(\.state), [.succeeded, .succeeded, .failed, .succeeded])
        XCTAssertEqual(done.tasks[2].exitCode, 1)
        XCTAssertEqual(done.exitCode, 1)
        XCTAssertEqual(done.rawState, "ARRAY COMPLETED:3 FAILED:1")
        XCTAssertEqual(done.reason, "1 of 4 tasks did not succeed (task 2)")
        let running = try XCTUnwrap(s["10"])
        XCTAssertEqual(running.state, .running)
        XCTAssertEqual(running.tasks.map(\.state), [.running, .running, .pending, .pending])
        XCTAssertEqual(running.tasks[3].message, "Resources")
        XCTAssertNil(running.endedAt)
    }

    func testSacctDuplicatesKeepLatestIncarnation() throws {
        let s = try SlurmAccounting.parseSacct(try SlurmFixtures.text("sacct-requeue.txt"))
        XCTAssertEqual(s["22"]?.state, .running)
        XCTAssertNil(s["22"]?.maxRSSMB)           // the running incarnation's steps only
        XCTAssertEqual(s["18"]?.state, .pending)
        XCTAssertEqual(s["18"]?.reason, "requeued; BeginTime")
    }

    func testSqueue() throws {
        let s = try SlurmAccounting.parseSqueue(try SlurmFixtures.text("squeue.txt"))
        XCTAssertEqual(s["6"]?.state, .running)
        XCTAssertEqual(s["6"]?.tasks.map(\.state), [.running, .running, .pending, .pending])
        XCTAssertEqual(s["3"]?.state, .running)
        XCTAssertEqual(s["3"]?.reason, nil)
        XCTAssertEqual(s["3"]?.timeLimitSeconds, 60)
        XCTAssertEqual(s["3"]?.elapsedSeconds, 76)
        XCTAssertEqual(s["2"]?.state, .oom)
        XCTAssertEqual(s["7"]?.state, .pending)
        XCTAssertEqual(s["7"]?.reason, "QOSMaxJobsPerUserLimit")
        XCTAssertEqual(s["7"]?.requestedMemoryMB, 4096)
        XCTAssertEqual(s["7"]?.timeLimitSeconds, 86400)
    }

    func testParseErrorNamesToolAndLine() throws {
        XCTAssertThrowsError(try SlurmAccounting.parseSacct(try SlurmFixtures.text("sacct-bad-line.txt"))) { error in
            let e = error as? ExptError
            XCTAssertEqual(e?.kind, .external)
            XCTAssertEqual(e?.message, "could not parse sacct output line 3: '1.batch|COMPLETED|0:0'")
        }
        XCTAssertThrowsError(try SlurmAccounting.parseSqueue("x_y|RUNNING|None|0:01|1:00|1G|N/A|n\n")) {
            XCTAssertTrue(($0 as? ExptError)?.message.hasPrefix("could not parse squeue output line 1") == true)
        }
    }

    func testPipeInJobNameStaysInName() throws {
        let s = try SlurmAccounting.parseSacct("9|FAILED|2:0|0:0|00:00:01|UNLIMITED||1G|Unknown|Unknown|None|a|b\n")
        XCTAssertEqual(s["9"]?.state, .failed)
        XCTAssertEqual(s["9"]?.exitCode, 2)
    }

    /// The real captures under shared/fixtures/slurm/localhost-22.05: every `sacct --parsable2`
    /// block (with its own header) is parsed and the known outcomes are checked.
    func testSharedRealCaptures() throws {
        guard let shared = SlurmFixtures.shared else {
            throw XCTSkip("shared/fixtures/slurm not found next to the checkout")
        }
        let dir = shared.appendingPathComponent("localhost-22.05")
        var all: [String: JobStatus] = [:]
        var blocks = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where file.hasSuffix(".txt") {
            let lines = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var i = 0
            while i < lines.count {
                defer { i += 1 }
                guard lines[i].hasPrefix("$ sacct"), lines[i].contains("--parsable2"), i + 1 < lines.count,
                      lines[i + 1].hasPrefix("JobID|") else { continue }
                let fields = lines[i + 1].split(separator: "|").map(String.init)
                var body: [String] = []
                var j = i + 2
                while j < lines.count, !lines[j].isEmpty, !lines[j].hasPrefix("$"), !lines[j].hasPrefix("#"),
                      !lines[j].hasPrefix("rc=") {
                    body.append(lines[j]); j += 1
                }
                let parsed = try SlurmAccounting.parseSacct(body.joined(separator: "\n"), fields: fields)
                blocks += 1
                all.merge(parsed) { _, new in new }     // later blocks show later states
            }
        }
        XCTAssertGreaterThan(blocks, 15)
        XCTAssertEqual(all["1"]?.state, .succeeded)
        XCTAssertEqual(all["2"]?.state, .oom)
        XCTAssertEqual(all["3"]?.state, .timeout)
        XCTAssertEqual(all["4"]?.state, .oom)
        XCTAssertEqual(all["5"]?.state, .failed)
        XCTAssertEqual(all["6"]?.tasks.map(\.state), [.succeeded, .succeeded, .failed, .succeeded])
        XCTAssertEqual(all["10"]?.state, .succeeded)
        XCTAssertEqual(all["14"]?.state, .cancelled)
        XCTAssertEqual(all["15"]?.state, .cancelled)
        XCTAssertEqual(all["16"]?.state, .preempted)
        XCTAssertEqual(all["18"]?.state, .pending)
        XCTAssertEqual(all["22"]?.state, .cancelled)
    }

    /// hb-jobinfo's real production sacct dump: `☃`-delimited `--parsable` (trailing delimiter).
    func testSharedProductionDump() throws {
        guard let shared = SlurmFixtures.shared else {
            throw XCTSkip("shared/fixtures/slurm not found next to the checkout")
        }
        let text = try String(contentsOf: shared.appendingPathComponent("hbjobinfo-sacct-parsable-snowman-delim.txt"),
                              encoding: .utf8)
        let fields = ("JobID,JobName,User,Partition,NodeList,NNodes,NCPUs,NTasks,State,Submit,Start,End,Timelimit,"
            + "Elapsed,TotalCPU,CPUTime,UserCPU,SystemCPU,ReqMem,MaxRSS,MaxVMSize,ReqTRES,AllocTRES,TRESUsageInMax,"
            + "TRESUsageInTot,TRESUsageOutTot,MaxDiskRead,MaxDiskWrite,MaxRSSNode,MaxRSSTask,MaxVMSizeNode,"
            + "MaxVMSizeTask,MaxDiskReadNode,MaxDiskReadTask,MaxDiskWriteNode,MaxDiskWriteTask,Comment")
            .split(separator: ",").map(String.init)
        let s = try SlurmAccounting.parseSacct(text, fields: fields, delimiter: "☃", trailingDelimiter: true)
        let states = Set(s.values.map(\.state))
        XCTAssertTrue(states.isSuperset(of: [.succeeded, .failed, .cancelled, .running, .timeout, .pending, .nodeFail]),
                      "\(states)")
        XCTAssertEqual(s["4047445"]?.requestedMemoryMB, 32000)
        XCTAssertNil(s["4047445"]?.startedAt)          // `None`: never started
        XCTAssertEqual(s["5908801"]?.tasks.first { $0.index == 3 }?.state, .succeeded)
    }
}
