import XCTest
import Foundation
import ExptModel

/// `JSONOutput` prints what JSONEncoder (snake_case, sorted, ISO-8601, pretty, unescaped slashes)
/// printed, except that nil optionals are written as `null` instead of being dropped.
final class JSONOutputTests: XCTestCase {
    /// The encoder expt used before, to compare against byte for byte.
    private func foundation<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    private struct Flat: Encodable {
        var name: String
        var jobId: String?
        var count: Int?
        var submittedAt: Date?
    }

    func testNilOptionalIsNull() throws {
        XCTAssertEqual(try JSONOutput.encode(Flat(name: "a", jobId: nil, count: 3, submittedAt: nil)), """
        {
          "count" : 3,
          "job_id" : null,
          "name" : "a",
          "submitted_at" : null
        }
        """)
    }

    private struct Inner: Encodable { var lastStep: Int?; var loss: Double? }
    private struct Outer: Encodable { var inner: Inner?; var other: Inner?; var list: [Inner]; var env: [String: String?] }

    func testNestedOptionalsAreNull() throws {
        let v = Outer(inner: Inner(lastStep: 5, loss: nil), other: nil, list: [Inner(lastStep: nil, loss: 2.0)],
                      env: ["maxJobs": nil])
        XCTAssertEqual(try JSONOutput.encode(v, style: .line),
                       #"{"env":{"maxJobs":null},"inner":{"last_step":5,"loss":null},"list":[{"last_step":null,"loss":2}],"other":null}"#)
    }

    private struct Awkward: Encodable {
        var jobId = 1
        var runID = 2
        var maxRSSMB = 3
        var maxRssMb = 4
        var myURLProperty = 5
        var sha256Sum = 6
        var already_snake = 7
        var _leading = 8
        var x = 9
        var aBC = 10
        var HTTPStatus = 11
        var iOSVersion = 12
        var élanVital = 13
    }

    func testSnakeCaseMatchesJSONEncoder() throws {
        let ours = try JSONOutput.encode(Awkward())
        XCTAssertEqual(ours, try foundation(Awkward()))
        XCTAssertTrue(ours.contains(#""max_rssmb" : 3"#), ours)
        XCTAssertTrue(ours.contains(#""job_id" : 1"#), ours)
        XCTAssertTrue(ours.contains(#""my_url_property" : 5"#), ours)
    }

    func testLineIsOneLineAndKeepsSpacesInStrings() throws {
        struct S: Encodable { var text = "a  b"; var list = [1, 2]; var nested = ["k": [true]]; var none: Int? }
        let line = try JSONOutput.encode(S(), style: .line)
        XCTAssertEqual(line, #"{"list":[1,2],"nested":{"k":[true]},"none":null,"text":"a  b"}"#)
        XCTAssertFalse(line.contains("\n"))
    }

    // A custom encode(to:) exercising nested, unkeyed, single-value and super encoders.
    private struct Custom: Encodable {
        enum Keys: String, CodingKey { case someKey, nestedThing, listOfLists, superValue }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode("v", forKey: .someKey)
            var n = c.nestedContainer(keyedBy: Keys.self, forKey: .nestedThing)
            try n.encode(1.5, forKey: .someKey)
            var u = c.nestedUnkeyedContainer(forKey: .listOfLists)
            var inner = u.nestedUnkeyedContainer()
            try inner.encode(1); try inner.encodeNil()
            var obj = u.nestedContainer(keyedBy: Keys.self)
            try obj.encode(true, forKey: .someKey)
            try "s".encode(to: u.superEncoder())
            try 7.encode(to: c.superEncoder())
            try [1, 2].encode(to: c.superEncoder(forKey: .superValue))
        }
    }

    private enum Kind: String, Encodable { case oomGpu = "oom_gpu" }
    private struct Empty: Encodable {}

    private struct Everything: Encodable {
        var text = "quote\" back\\slash a/b tab\t nl\n cr\r bell\u{7} esc\u{1B} é 日本 🙂"
        var int = -3
        var int32: Int32 = 17
        var uint8: UInt8 = 255
        var uint64 = UInt64.max
        var doubles = [2.0, 0.1, -0.5, 1e-7, 1e20, 123456789.125, -0.0]
        var float: Float = 0.1
        var flag = false
        var someDate = Date(timeIntervalSince1970: 1_796_155_200)
        var url = URL(string: "https://example.com/a/b?c=d")!
        var data = Data([0, 1, 2, 250])
        var decimal = Decimal(string: "1.25")!
        var present: String? = "here"
        var kind = Kind.oomGpu
        var envVars = ["PATH": "/bin", "myVar": "x", "a_b": "y"]
        var intKeys = [10: "ten", 2: "two"]
        var emptyList: [Int] = []
        var emptyDict: [String: Int] = [:]
        var empty = Empty()
        var nested = [[Inner(lastStep: 1, loss: 0.25)], []]
        var custom = Custom()
    }

    func testPrettyMatchesJSONEncoderWithoutNils() throws {
        let ours = try JSONOutput.encode(Everything())
        XCTAssertEqual(ours, try foundation(Everything()))
        XCTAssertEqual(try JSONOutput.encode(Everything(), style: .line).split(separator: "\n").count, 1)
    }

    func testStringKeyedDictionariesKeepTheirKeys() throws {
        XCTAssertEqual(try JSONOutput.encode(["someKey": 1, "CUDA_VISIBLE_DEVICES": 2], style: .line),
                       #"{"CUDA_VISIBLE_DEVICES":2,"someKey":1}"#)
    }

    func testNumbers() throws {
        XCTAssertEqual(try JSONOutput.encode([2.0, 0.5, -1.0], style: .line), "[2,0.5,-1]")
        XCTAssertEqual(try JSONOutput.encode(Int64(-42)), "-42")
    }

    func testNonFiniteFloatsAreStrings() throws {
        struct L: Encodable { var a = Double.nan; var b = Double.infinity; var c = -Double.infinity; var d = Float.nan }
        XCTAssertEqual(try JSONOutput.encode(L(), style: .line), #"{"a":"nan","b":"inf","c":"-inf","d":"nan"}"#)
    }

    func testDatesAreISO8601() throws {
        let d = Date(timeIntervalSince1970: 1_796_155_200)
        XCTAssertEqual(try JSONOutput.encode(d), #""2026-12-01T20:00:00Z""#)
        XCTAssertEqual(try JSONOutput.encode(Flat(name: "n", jobId: "1", count: nil, submittedAt: d), style: .line),
                       #"{"count":null,"job_id":"1","name":"n","submitted_at":"2026-12-01T20:00:00Z"}"#)
        XCTAssertEqual(try JSONOutput.encode(Flat(name: "n", jobId: "1", count: 2, submittedAt: d)),
                       try foundation(Flat(name: "n", jobId: "1", count: 2, submittedAt: d)))
    }

    func testEmptyContainersMatchJSONEncoder() throws {
        XCTAssertEqual(try JSONOutput.encode([Int]()), "[\n\n]")
        XCTAssertEqual(try JSONOutput.encode(Empty()), "{\n\n}")
        XCTAssertEqual(try JSONOutput.encode(Empty(), style: .line), "{}")
    }
}
