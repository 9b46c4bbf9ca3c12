import XCTest
import ExptDiagnosis
import ExptModel
@testable import ExptCore

/// The fast paths behind reading 1,000 runs (issue 16): they must answer exactly what the
/// general code answers.
final class LedgerReadPathTests: XCTestCase {
    func testHandParsedDatesEqualTheFormatStyle() throws {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        var generator = SystemRandomNumberGenerator()
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.5),   // 2000-02-29
                     Date(timeIntervalSince1970: 4_107_542_399.999)]                                 // 2100-02-28T23:59:59.999
        for _ in 0..<2000 { dates.append(Date(timeIntervalSince1970: Double(Int.random(in: 0...4_102_444_800_000, using: &generator)) / 1000)) }
        for date in dates {
            let text = LedgerDate.string(date)
            if date.timeIntervalSinceReferenceDate >= 0 {
                XCTAssertEqual(LedgerDate.fastDate(text), try style.parse(text), text)
            } else {
                XCTAssertNil(LedgerDate.fastDate(text), "before 2001 the format style reads it: \(text)")
            }
            XCTAssertEqual(LedgerDate.date(text), try style.parse(text), text)
        }
        // Other forms are not guessed at: the format style reads them (or nothing does).
        for other in ["2026-11-24T10:00:00Z", "2026-11-24T10:00:00.123+01:00", "2026-13-01T00:00:00.000Z", "2026-11-24 10:00:00.000Z", ""] {
            XCTAssertNil(LedgerDate.fastDate(other), other)
        }
        XCTAssertEqual(LedgerDate.date("2026-11-24T10:00:00Z"), try style.parse("2026-11-24T10:00:00Z"))
    }

    struct Holder: Codable, Equatable {
        @LazyDecoded var spec: JobSpec?
        var name = "x"
        init(spec: JobSpec?) { self.spec = spec }
        init(json: String) { _spec = LazyDecoded(json: json) }
    }

    func spec() -> JobSpec {
        JobSpec(runID: "r1", branch: "exp/a", jobName: "expt-r1", workdir: "/w", command: "python train.py",
                environment: ["WANDB_RUN_ID": "exp-a-r1-abc123"], resources: Resources(memoryMB: 512), logDir: "/l")
    }

    func testALazySpecDecodesOnceAndEncodesAsAPlainOptional() throws {
        let json = LedgerJSON.encode(spec())
        let holder = Holder(json: json)
        XCTAssertTrue(holder.$spec.mayContain("WANDB_RUN_ID"))
        XCTAssertFalse(holder.$spec.mayContain("NOT_THERE"))
        XCTAssertEqual(holder.spec, spec())
        XCTAssertTrue(holder.$spec.mayContain("NOT_THERE"), "once decoded, the JSON is no longer searched")
        // Encoded under "spec", as a plain optional property was; nil is left out.
        let data = try JSONEncoder().encode(holder)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertNotNil(object["spec"])
        XCTAssertEqual(try JSONDecoder().decode(Holder.self, from: data), holder)
        let none = try JSONEncoder().encode(Holder(spec: nil))
        XCTAssertEqual(String(decoding: none, as: UTF8.self), #"{"name":"x"}"#)
        XCTAssertNil(try JSONDecoder().decode(Holder.self, from: none).spec)
        // Copies are values: setting one leaves the other.
        var copy = holder
        copy.spec = nil
        XCTAssertEqual(holder.spec, spec())
        XCTAssertNil(copy.spec)
        XCTAssertNil(Holder(spec: nil).spec)
        XCTAssertNil(Holder(json: "{not json").spec)
    }

    func testTheTrackerIdOfARunWithoutOneIsNeverDecoded() {
        func record(_ spec: JobSpec) -> RunRecord {
            RunRecord(row: SQLiteRow(columns: ["id": .text("r1"), "state": .text("succeeded"), "spec_json": .text(LedgerJSON.encode(spec))]))
        }
        XCTAssertEqual(record(spec()).trackerRunID, "exp-a-r1-abc123")
        var plain = spec()
        plain.environment = [:]
        let record = record(plain)
        XCTAssertNil(record.trackerRunID)
        XCTAssertTrue(record.$spec.mayContain("command"), "the spec was not decoded to answer")
    }

    func testAnOutputTailSurvivesItsEncoding() {
        let tails = [
            OutputTail(progress: Progress(lastStep: 3000, totalSteps: 3000, lastEpoch: 9, lastLoss: 0.125, minLoss: 0.1, lossTrend: "decreasing"),
                       lastLine: "step 3000/3000\tloss=0.125", modified: Date(timeIntervalSince1970: 1_764_000_000.25)),
            OutputTail(progress: nil, lastLine: nil, modified: nil),
            OutputTail(progress: Progress(), lastLine: "", modified: nil),
        ]
        var withEpochs = tails[0]
        withEpochs.progress?.totalEpochs = 10
        for tail in tails + [withEpochs] {
            let back = OutputTail(encoded: tail.encoded)
            XCTAssertEqual(back?.progress, tail.progress)
            XCTAssertEqual(back?.modified, tail.modified)
            XCTAssertEqual(back?.lastLine, tail.lastLine?.isEmpty == true ? nil : tail.lastLine)
        }
        XCTAssertNil(OutputTail(encoded: "2\tanything"))
        XCTAssertNil(OutputTail(encoded: ""))
    }
}
