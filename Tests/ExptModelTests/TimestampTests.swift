import Foundation
import XCTest
import ExptModel

/// `ISO8601.timestamp` is written by hand for speed (issue 16): it must say what Foundation's
/// ISO8601DateFormatter says.
final class TimestampTests: XCTestCase {
    func testTheHandWrittenTimestampIsTheFormatters() {
        let formatter = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.999), Date(timeIntervalSince1970: -1.5)]
        for _ in 0..<2000 { dates.append(Date(timeIntervalSince1970: Double.random(in: -2e9...4e9, using: &generator))) }
        for date in dates {
            XCTAssertEqual(ISO8601.timestamp(date), formatter.string(from: date), "\(date.timeIntervalSince1970)")
        }
    }
}

/// `Units.elapsed` without String(format:): the same text as the format strings it replaced.
final class ElapsedTests: XCTestCase {
    func testElapsedIsWhatTheFormatStringsSaid() {
        func reference(_ s: Int) -> String {
            if s < 60 { return "\(s)s" }
            if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
            if s < 86400 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
            return String(format: "%dd%02dh", s / 86400, (s % 86400) / 3600)
        }
        for s in [-5, 0, 9, 59, 60, 61, 599, 3599, 3600, 3661, 86399, 86400, 90061, 10 * 86400 + 7200] + (0..<500).map({ $0 * 397 }) {
            XCTAssertEqual(Units.elapsed(s), reference(s), "\(s)")
        }
    }
}

/// `--json` dates are written by `ISO8601.timestamp`, exactly as the format style wrote them.
final class ISO8601WritingTests: XCTestCase {
    func testHandWrittenDatesMatchTheFormatStyleOnRandomDates() {
        var rng = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, -0.5, -1, 86399.999, 951782400 /* 2000-02-29 */, 4102444800 /* 2100-01-01 */, -2208988800 /* 1900-01-01 */, 1796277395.75]
        let random = (0..<2000).map { _ in TimeInterval(Int64.random(in: -5_000_000_000...9_000_000_000, using: &rng)) / 1000 * Double.random(in: 0...1000, using: &rng) }
        for t in fixed + random {
            let date = Date(timeIntervalSince1970: t)
            XCTAssertEqual(ISO8601.timestamp(date, asFormatStyle: true), date.formatted(.iso8601), "\(t)")
        }
    }
}
