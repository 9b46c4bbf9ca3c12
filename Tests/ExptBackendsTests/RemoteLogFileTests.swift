import XCTest
import ExptModel
import ExptTestSupport

/// Logs on another host are read through the runner that reaches it: `stat` for the size, then
/// bounded `cat`/`head`/`tail` calls, never the whole of a big file.
final class RemoteLogFileTests: XCTestCase {
    let path = "/scratch/run dir/stdout.log"

    func testSmallLogIsReadWhole() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        fake.expect(["stat", "-L", "-c", "%s", "--", path], stdout: "12\n")
        fake.expect(["cat", "--", path], stdout: "hello\nworld\n")
        let chunk = try RemoteLogFile(runner: fake, hostDescription: "login1").read(path, .diagnosis)
        XCTAssertEqual(chunk.text, "hello\nworld\n")
        XCTAssertNil(chunk.tail)
        XCTAssertEqual(chunk.size, 12)
    }

    func testBigLogReadsHeadAndTailOnly() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        fake.expect(["stat", "-L", "-c", "%s", "--", path], stdout: "\(10 << 30)\n")
        fake.expect(["head", "-c", "65536", "--", path], stdout: "start\npartial")
        fake.expect(["tail", "-c", "1048576", "--", path], stdout: "the end\n")
        let chunk = try RemoteLogFile(runner: fake, hostDescription: "login1").read(path, .diagnosis)
        XCTAssertEqual(chunk.head, Array("start\n".utf8), "the head's partial last line is dropped")
        XCTAssertEqual(chunk.tail, Array("the end\n".utf8))
        XCTAssertTrue(chunk.text.contains("bytes not read"))
    }

    func testFollowReadsFromAnOffsetWithQuotedArguments() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        fake.expect(["stat", "-L", "-c", "%s", "--", path], stdout: "20\n")
        fake.expect(["sh", "-c", "tail -c +\"$1\" -- \"$2\" | head -c \"$3\"", "sh", "13", path, "100"], stdout: "append\n")
        let chunk = try RemoteLogFile(runner: fake, hostDescription: "login1").read(path, .from(offset: 12, max: 100))
        XCTAssertEqual(chunk.text, "append\n")
        XCTAssertEqual(chunk.end, 19)
    }

    func testMissingRemoteFileIsNotFound() {
        let fake = FakeProcessRunner(checkedBy: self)
        fake.expect(["stat", "-L", "-c", "%s", "--", path], stderr: "stat: cannot statx '\(path)': No such file or directory\n", status: 1)
        XCTAssertThrowsError(try RemoteLogFile(runner: fake, hostDescription: "login1").read(path, .tail(bytes: 10))) {
            XCTAssertEqual(($0 as? ExptError)?.kind, .notFound)
            XCTAssertTrue("\($0)".contains("login1"))
        }
    }

    /// Through an exec prefix the whole command is one quoted string for the remote shell.
    func testThroughAPrefixEachArgumentIsQuotedOnce() throws {
        let fake = FakeProcessRunner(checkedBy: self)
        let prefixed = PrefixedRunner(prefix: ["ssh", "login1"], base: fake)
        fake.expect(["ssh", "login1", "stat -L -c %s -- '/scratch/run dir/stdout.log'"], stdout: "3\n")
        fake.expect(["ssh", "login1", "tail -c 10 -- '/scratch/run dir/stdout.log'"], stdout: "ok\n")
        XCTAssertEqual(try RemoteLogFile(runner: prefixed, hostDescription: "login1").read(path, .tail(bytes: 10)).text, "ok\n")
    }
}
