import XCTest
import ExptCore
import ExptModel
@testable import ExptBackends

/// Parsing speed of a large poll answer. Runs only with EXPT_BENCH=1 (timing in a debug build
/// or on a busy machine says little); target < 50 ms for 1,000 jobs in release:
/// `EXPT_BENCH=1 swift test -c release --filter SlurmBenchmarkTests`.
final class SlurmBenchmarkTests: XCTestCase {
    /// 1,000 jobs as sacct prints them: 900 plain jobs with .batch, .extern and one srun step
    /// each, plus 10 arrays of 10 tasks with .batch steps: 4,000 lines.
    static func generatedSacct() -> String {
        let states = ["COMPLETED|0:0|0:0", "FAILED|1:0|0:0", "OUT_OF_MEMORY|0:125|0:0", "TIMEOUT|0:0|0:0",
                      "RUNNING|0:0|0:0", "CANCELLED by 1000|0:0|0:0", "COMPLETED|0:0|0:125"]
        let times = "2026-11-22T22:24:59|2026-11-22T22:25:04"
        var lines: [String] = []
        for j in 0..<900 {
            let id = 100_000 + j, state = states[j % states.count]
            lines.append("\(id)|\(state)|01:02:03|1-00:00:00||4000M|\(times)|None|expt.r\(j).exp-\(j)")
            lines.append("\(id).batch|\(state.split(separator: "|")[0])|0:0||01:02:03||\(j * 13)K||\(times)||batch")
            lines.append("\(id).extern|COMPLETED|0:0||01:02:03||0||\(times)||extern")
            lines.append("\(id).0|COMPLETED|0:0||01:02:00||\(j)M||\(times)||python3")
        }
        for a in 0..<10 {
            for t in 0..<10 {
                let id = "200\(a)_\(t)", state = states[(a + t) % states.count]
                lines.append("\(id)|\(state)|00:10:00|02:00:00||8G|\(times)|None|expt.s\(a).sweep")
                lines.append("\(id).batch|\(state.split(separator: "|")[0])|0:0||00:10:00||\(t)G||\(times)||batch")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func testParseThousandJobs() throws {
        guard ProcessInfo.processInfo.environment["EXPT_BENCH"] == "1" else {
            throw XCTSkip("benchmark: set EXPT_BENCH=1 (and use -c release) to run it")
        }
        let text = Self.generatedSacct()
        XCTAssertEqual(try SlurmAccounting.parseSacct(text).count, 910)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try SlurmAccounting.parseSacct(text)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        print("SlurmBenchmark: parsed 1,000 jobs (4,000 sacct lines, \(text.utf8.count) bytes) in \(String(format: "%.1f", best)) ms (best of 5)")
        #if !DEBUG
        XCTAssertLessThan(best, 50, "parsing 1,000 jobs took \(best) ms")
        #endif
    }
}
