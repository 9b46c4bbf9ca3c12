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
