import Foundation
import XCTest
@testable import ExptDiagnosis
#if canImport(Glibc)
import Glibc
#endif

/// Speed and memory on a 4 GiB log and a 1,000-task array. Skipped unless EXPT_BENCH=1; run by
/// scripts/bench-diagnose.sh, which creates the files in /tmp (EXPT_BENCH_LOG, EXPT_BENCH_ARRAY).
final class BenchmarkTests: XCTestCase {
    var env: [String: String] { ProcessInfo.processInfo.environment }

    static func peakRSSKiB() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Int(usage.ru_maxrss) // KiB on Linux
    }

    /// VmRSS and VmHWM (peak) of this process in KiB, from /proc/self/status.
    static func procMemoryKiB() -> (rss: Int, peak: Int) {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return -1 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// Resets VmHWM to the current RSS (Linux ≥ 4.0), so the next peak is the diagnosis's own.
    static func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    func testBenchmark4GiB() throws {
        guard env["EXPT_BENCH"] == "1" else { throw XCTSkip("skipping: set EXPT_BENCH=1 (scripts/bench-diagnose.sh)") }
        let path = env["EXPT_BENCH_LOG"] ?? "/tmp/expt-bench/train-4g.log"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("skipping: \(path) missing; run scripts/bench-diagnose.sh") }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0

        print("bench: process RSS at test start \(BenchmarkTests.procMemoryKiB().rss / 1024) MiB")
        let rulesStart = Date()
        let diagnoser = Diagnoser(rules: try RuleSet.builtin())
        let rulesTime = Date().timeIntervalSince(rulesStart)
        let input = DiagnosisInput(logs: [LogInput(label: "train.log", path: path)])
        let rssBefore = BenchmarkTests.peakRSSKiB()
        let baseline = BenchmarkTests.procMemoryKiB().rss
        BenchmarkTests.resetPeak()
        var times: [Double] = []
        var d: Diagnosis?
        for _ in 0..<5 {
            let t = Date()
            d = try diagnoser.diagnose(input)
            times.append(Date().timeIntervalSince(t))
        }
        let rssAfter = BenchmarkTests.peakRSSKiB()
        let peakDuring = BenchmarkTests.procMemoryKiB().peak
        times.sort()
        let median = times[times.count / 2]
        XCTAssertEqual(d?.category, .oomGPU)

        let grepStart = Date()
        let grep = Process()
        grep.executableURL = URL(fileURLWithPath: "/bin/sh")
        grep.arguments = ["-c", "grep -E \"Error|Exception|CUDA|OOM|Traceback|Killed\" \"$0\" | tail", path]
        grep.standardOutput = FileHandle.nullDevice
        try grep.run()
        grep.waitUntilExit()
        let grepTime = Date().timeIntervalSince(grepStart)

        print(String(format: "bench: %.2f GiB log; rules compiled in %.1f ms; diagnose median %.1f ms (min %.1f, max %.1f) over 5 runs",
                     Double(size) / Double(1 << 30), rulesTime * 1000, median * 1000, times.first! * 1000, times.last! * 1000))
        print("bench: RSS before diagnosis \(baseline / 1024) MiB (test process, rules loaded); peak RSS while diagnosing (VmHWM) \(peakDuring / 1024) MiB, i.e. +\((peakDuring - baseline) / 1024) MiB; ru_maxrss \(rssBefore / 1024) → \(rssAfter / 1024) MiB")
        print(String(format: "bench: seed recipe grep -E ... | tail: %.1f ms; ratio grep/diagnose = %.0fx", grepTime * 1000, grepTime / median))
        XCTAssertLessThan(median, 0.1, "diagnosing a 4 GiB log must take < 100 ms")
        XCTAssertLessThan(rssAfter - rssBefore, 64 * 1024, "diagnosis must stay under 64 MiB")
        if peakDuring > 0 { XCTAssertLessThan(peakDuring - baseline, 64 * 1024, "diagnosis must stay under 64 MiB") }
    }

    func testBenchmarkThousandTaskArray() throws {
        guard env["EXPT_BENCH"] == "1" else { throw XCTSkip("skipping: set EXPT_BENCH=1 (scripts/bench-diagnose.sh)") }
        let dir = env["EXPT_BENCH_ARRAY"] ?? "/tmp/expt-bench/array"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir), !names.isEmpty else {
            throw XCTSkip("skipping: \(dir) missing; run scripts/bench-diagnose.sh")
        }
        let diagnoser = Diagnoser(rules: try RuleSet.builtin())
        // The path RunService.diagnoseRun takes for an array: all failed tasks at once.
        let inputs = names.sorted().map { name in
            DiagnosisInput(logs: [LogInput(label: name, path: dir + "/" + name)],
                           scheduler: SchedulerFacts(exitCode: name.contains("fail") ? 1 : 0))
        }
        // The first pass reads the files from disk (a cold page cache after the 4 GiB test); the
        // target is for the warm case, as when `status` reads logs a job has just written.
        var times: [TimeInterval] = []
        var report = BatchHealth.verdict(for: [])
        for _ in 0..<4 {
            let start = Date()
            let categories: [FailureCategory?] = try diagnoser.diagnoseAll(inputs).map { try $0.get().category }
            report = BatchHealth.verdict(for: categories)
            times.append(Date().timeIntervalSince(start))
        }
        let warm = times.dropFirst().sorted()
        let elapsed = warm[warm.count / 2]
        print(String(format: "bench: %d task logs diagnosed + batch health: first (cold) pass %.0f ms; warm median %.0f ms (%.2f ms/task, min %.0f); verdict %@: %@",
                     names.count, times[0] * 1000, elapsed * 1000, elapsed * 1000 / Double(names.count), warm[0] * 1000,
                     report.verdict.rawValue, report.explanation))
        XCTAssertLessThan(elapsed, 0.1, "issue 15: a 1,000-task array diagnosis under 100 ms")
    }
}
