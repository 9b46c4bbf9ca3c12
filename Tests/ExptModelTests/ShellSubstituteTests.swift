import Foundation
import XCTest
@testable import ExptModel

/// `{checkpoint}` reaches the resume command as one word whatever quoting the user wrote around
/// it (R7): checked by running the result in a real bash and reading back the argument.
final class ShellSubstituteTests: XCTestCase {
    func bashArgs(_ command: String, in dir: String) throws -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "printarg() { for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done; }; " + command]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func testEveryQuotingContextPassesThePathVerbatimAndRunsNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("subst-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = ["checkpoints/step-1$(touch PWNED).pt", "ck/it's \"q\" `touch PWNED2` \\ $HOME.pt", "plain/step-3.pt", "sp ace/x;y|z&.pt"]
        let templates: [(String, (String) -> [String])] = [
            ("printarg --resume {checkpoint}", { ["[--resume]", "[\($0)]"] }),
            ("printarg --resume \"{checkpoint}\"", { ["[--resume]", "[\($0)]"] }),
            ("printarg --resume '{checkpoint}'", { ["[--resume]", "[\($0)]"] }),
            ("printarg \"--ck={checkpoint}\" 'x {checkpoint} y'", { ["[--ck=\($0)]", "[x \($0) y]"] }),
            ("printarg --ck=\\\"{checkpoint}\\\"", { ["[--ck=\"\($0)\"]"] }),
        ]
        for path in paths {
            for (template, expected) in templates {
                let command = ShellQuote.substitute("{checkpoint}", in: template, with: path)
                XCTAssertEqual(try bashArgs(command, in: dir), expected(path), "\(template) with \(path): \(command)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no command in a path ever ran")
    }
}
