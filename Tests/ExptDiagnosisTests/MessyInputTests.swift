import Foundation
import XCTest
@testable import ExptDiagnosis

/// Real logs are messy: carriage returns, colour codes, broken UTF-8, giant lines, binary junk.
final class MessyInputTests: XCTestCase {
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = try makeTempDir(self).appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func diagnose(path: String, label: String = "log") throws -> Diagnosis {
        try sharedDiagnoser.diagnose(DiagnosisInput(logs: [LogInput(label: label, path: path)]))
    }

    func testTqdmCarriageReturnsThenKilled() throws {
        var text = "loading\n"
        for i in 0..<500 { text += "\r\(i)/1000 [00:01<00:02, 3.2it/s]" }
        text += "\rKilled\n"
        let d = try diagnose(path: try write(Array(text.utf8), "tqdm.log"))
        XCTAssertEqual(d.category, .oomHost)
        XCTAssertEqual(d.evidence.first?.line, 2)
        XCTAssertEqual(d.evidence.first?.text, "Killed", "evidence is the redraw holding the match, not the whole line")
        XCTAssertEqual(d.progress?.lastStep, 499)
    }

    func testANSIColourCodesDoNotHideErrors() throws {
        let text = "\u{1B}[1;31mtorch.cuda.\u{1B}[0mOutOfMemoryError: \u{1B}[33mCUDA out of memory\u{1B}[0m. Tried to allocate 1 GiB\n"
        let d = try diagnose(path: try write(Array(text.utf8), "ansi.log"))
        XCTAssertEqual(d.category, .oomGPU)
        XCTAssertFalse(d.evidence[0].text.contains("\u{1B}"))
        XCTAssertTrue(d.evidence[0].text.hasPrefix("torch.cuda.OutOfMemoryError"))
    }

    func testInvalidUTF8IsReplacedNotFatal() throws {
        var bytes = Array("step 1\n".utf8) + [0xFF, 0xFE, 0xC3, 0x28, 0x0A]
        bytes += Array("OSError: [Errno 28] No space left on device \u{00E9}".utf8) + [0xE2, 0x82, 0x0A]
        let d = try diagnose(path: try write(bytes, "utf8.log"))
        XCTAssertEqual(d.category, .diskFull)
        XCTAssertEqual(d.evidence.first?.line, 3)
    }

    func testTenMegabyteSingleLine() throws {
        var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 10 << 20)
        let tail = Array(" RuntimeError: CUDA error: an illegal memory access was encountered".utf8)
        bytes.replaceSubrange((bytes.count - tail.count)..., with: tail)
        let start = Date()
        let d = try diagnose(path: try write(bytes, "oneline.log"))
        XCTAssertEqual(d.category, .codeError)
        XCTAssertLessThan(d.evidence[0].text.count, 400, "evidence is clipped")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testEmptyFileIsUnknownNotAnError() throws {
        let d = try diagnose(path: try write([], "empty.log"))
        XCTAssertEqual(d.category, .unknown)
    }

    func testMissingFileAloneIsAClearError() throws {
        XCTAssertThrowsError(try diagnose(path: "/nonexistent/slurm-1.out", label: "stdout")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("nothing to diagnose"), text)
            XCTAssertTrue(text.contains("/nonexistent/slurm-1.out: not found"), text)
            XCTAssertTrue(text.contains("hint:"), text)
        }
    }

    func testMissingFileBesideAReadableOneIsNoted() throws {
        let d = try sharedDiagnoser.diagnose(DiagnosisInput(logs: [
            LogInput(label: "stderr", path: "/nonexistent/err.log"),
            LogInput(label: "stdout", path: TestPaths.fixture("timeout_slurm.log")),
        ]))
        XCTAssertEqual(d.category, .timeout)
        XCTAssertTrue(d.explanation.contains("stderr: /nonexistent/err.log: not found"), d.explanation)
    }

    func testDirectoryIsNotALog() throws {
        let dir = try makeTempDir(self).path
        XCTAssertThrowsError(try diagnose(path: dir)) { error in
            XCTAssertTrue("\(error)".contains("is a directory"), "\(error)")
        }
    }

    func testBinaryGarbage() throws {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let d = try diagnose(path: try write(bytes, "garbage.bin"))
        XCTAssertNotEqual(d.category, .success)
    }

    func testHugeLogReadsOnlyHeadAndTail() throws {
        // 40 MB (above the exact line-count limit): the tail's line numbers count from the end.
        let dir = try makeTempDir(self)
        let path = dir.appendingPathComponent("big.log").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.write(Data("ModuleNotFoundError: No module named 'early'\n".utf8))
        let block = Data(String(repeating: "epoch 1 step 1 loss 0.5 lr 1e-4 throughput 900 samples/s\n", count: 20_000).utf8)
        while handle.offsetInFile < 40 << 20 { handle.write(block) }
        handle.write(Data("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=9.batch.\nbye\n".utf8))
        try handle.close()
        let d = try diagnose(path: path)
        XCTAssertEqual(d.category, .oomHost)
        XCTAssertEqual(d.evidence.first?.line, -2, "second line from the end")
        XCTAssertTrue(d.evidence.first!.location.contains("from end"))
        XCTAssertTrue(d.hits.contains { $0.evidence.line == 1 && $0.category == .missingDependency },
                      "the head window is read too")
    }

    func testMidSizeLogKeepsExactLineNumbers() throws {
        let limits = ReadLimits(headBytes: 1024, tailBytes: 4096, exactLineCountBytes: 1 << 20)
        let diagnoser = Diagnoser(rules: sharedDiagnoser.rules, limits: limits)
        var text = ""
        for i in 1...2000 { text += "step \(i) loss 0.5\n" }
        text += "OSError: [Errno 28] No space left on device\n"
        let path = try write(Array(text.utf8), "mid.log")
        let d = try diagnoser.diagnose(DiagnosisInput(logs: [LogInput(label: "mid", path: path)]))
        XCTAssertEqual(d.evidence.first?.line, 2001)
        let inMemory = try diagnoser.diagnose(DiagnosisInput(logs: [LogInput(label: "mid", text: text)]))
        XCTAssertEqual(inMemory.evidence.first?.line, 2001)
    }

    func testStripANSIHandlesOSCAndTruncatedSequences() {
        var out: [UInt8] = []
        LogReader.appendStripped(Array("a\u{1B}]0;title\u{07}b\u{1B}[31".utf8), to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "ab")
    }
}
