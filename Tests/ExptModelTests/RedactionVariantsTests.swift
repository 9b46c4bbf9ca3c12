import Foundation
import XCTest
import ExptModel

/// Every secret shape `Redactor` covers, tried in many places rather than one: at the start,
/// middle and end of a line, glued to a prefix, in quotes and brackets, inside long lines and
/// multi-line texts; secret names in every form and after log prefixes; private keys with and
/// without their footer; and hostile long lines, which must take linear time.
final class RedactionVariantsTests: XCTestCase {
    private let r = Redactor.mark

    /// A secret shape: the whole token, and the prefix that stays visible in front of the mark.
    struct Shape {
        var token: String
        var kept: String
        /// False when a letter right before the prefix makes it a word (`task-…` is no `sk-`).
        var gluesToLetters = true
    }

    /// `n` letters and digits, assembled at run time so no scanner mistakes this file for a leak.
    static func chars(_ n: Int) -> String {
        String(String(repeating: "A1b2C3d4E5f6G7h8I9j0", count: 10).prefix(n))
    }

    var shapes: [Shape] {
        let c = RedactionVariantsTests.chars
        return [
            Shape(token: "ghp_" + c(36), kept: "ghp_"),
            Shape(token: "gho_" + c(36), kept: "gho_"),
            Shape(token: "github_pat_11ABCDEFG0" + String(repeating: "abc_XYZ12", count: 8), kept: "github_pat_"),
            Shape(token: "glpat-" + "xY9_zW8-vU7tS6rQ5pO4", kept: "glpat-"),
            Shape(token: "hf_" + String(String(repeating: "QwErTyUiOp", count: 4).prefix(34)), kept: "hf_"),
            Shape(token: "xoxb-1234567890-" + "abcdefghij", kept: "xoxb-"),
            Shape(token: "AKIA" + "IOSFODNN7EXAMPLE", kept: "AKIA"),
            Shape(token: "AIza" + c(35), kept: "AIza"),
            Shape(token: "sk_live_" + c(24), kept: "sk_live_"),
            Shape(token: "rk_live_" + c(24), kept: "rk_live_"),
            Shape(token: "sk_test_" + c(24), kept: "sk_test_"),
            Shape(token: "whsec_" + c(32), kept: "whsec_"),
            Shape(token: "ya29." + c(40), kept: "ya29."),
            Shape(token: "npm_" + c(36), kept: "npm_"),
            Shape(token: "pypi-AgEIcHlwaS5vcmc" + c(50), kept: "pypi-"),
            Shape(token: "SG." + c(22) + "." + c(43), kept: "SG."),
            Shape(token: "sk-proj-" + c(24), kept: "sk-", gluesToLetters: false),
        ]
    }

    func assertRedacts(_ input: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let once = Redactor.redact(input)
        XCTAssertEqual(once, expected, file: file, line: line)
        XCTAssertEqual(Redactor.redact(once), once, "not idempotent", file: file, line: line)
    }

    func assertUnchanged(_ input: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Redactor.redact(input), input, file: file, line: line)
    }

    // MARK: token shapes, everywhere

    func testEveryTokenShapeInEveryPlace() {
        let long = String(repeating: "lorem ipsum dolor ", count: 300)
        for shape in shapes {
            let t = shape.token
            var places = [
                t, "\(t) rest of the line", "before \(t) after", "the line ends with \(t)",
                "quoted '\(t)', next", "(\(t))", "a sentence with \(t).", "\(long)\(t) \(long)",
                "line one\n\(t)\nline three", "line one\r\n\(t)\r\nline three", "token_\(t)", "_\(t)",
                "export SOME_VALUE=\(t)", "{\"value\": \"\(t)\"}",
            ]
            if shape.gluesToLetters { places += ["x\(t)", "abc\(t) tail"] }
            let secretPart = String(t.dropFirst(shape.kept.count))
            for place in places {
                let out = Redactor.redact(place)
                XCTAssertFalse(out.contains(secretPart), "\(shape.kept) leaked in: \(out.prefix(200))")
                XCTAssertEqual(out, place.replacingOccurrences(of: t, with: shape.kept + r), "\(shape.kept)")
                XCTAssertEqual(Redactor.redact(out), out, "not idempotent: \(out.prefix(200))")
            }
        }
    }

    func testSeveralTokensOnOneLine() {
        let all = shapes.map(\.token).joined(separator: " ")
        let out = Redactor.redact(all)
        XCTAssertEqual(out, shapes.map { $0.kept + r }.joined(separator: " "))
    }

    func testKebabAndSnakeWordsAreNotTokens() {
        assertUnchanged("task-abcdefghijklmnopqrstuvw1 disk-0123456789abcdefghij-x use_hf_transfer=1 npm_config_cache=/tmp")
        assertUnchanged("ASIAPACIFICSOUTHEAST1 is a region; the AKIA prefix alone is fine")
    }

    // MARK: names

    func testPasswordNamesInEveryForm() {
        assertRedacts("DB_PASS=hunter2hunter2", "DB_PASS=\(r)")
        assertRedacts("PGPASSWORD=s3cr3t", "PGPASSWORD=\(r)")
        assertRedacts("export MYSQL_PASS='pw 1'", "export MYSQL_PASS='\(r)'")
        assertRedacts("SMTP_PASS: abc", "SMTP_PASS: \(r)")
        assertRedacts("run.sh --db-pass hunter2 --lr 3e-4", "run.sh --db-pass \(r) --lr 3e-4")
        assertRedacts("redisPassword=abc", "redisPassword=\(r)")
        assertRedacts("x=1 DB_PASS=hunter2 y=2", "x=1 DB_PASS=\(r) y=2")
        assertRedacts("env: DB_PASS=hunter2", "env: DB_PASS=\(r)")
        assertRedacts("DATABASE_PASSWORD=user:pass@word", "DATABASE_PASSWORD=\(r)")
        assertRedacts("HF_TOKEN_B64=YWJjZGVm==", "HF_TOKEN_B64=\(r)")
        assertRedacts("api_key=abc=def next", "api_key=\(r) next")
        assertRedacts("login failed, token=abc123: expired", "login failed, token=\(r): expired")
    }

    func testPasswordAfterALogPrefixMasksTheRestOfTheLine() {
        let phrase = "correct horse battery staple"
        for prefix in ["", "  ", "- ", "13 ", "2024-01-01 12:00:00 INFO ", "INFO:root:", "[rank0]: db: ",
                       "[rank0]:[W] ", "job 7 | ", "user=alice "] {
            assertRedacts("\(prefix)password: \(phrase)", "\(prefix)password: \(r)")
            assertRedacts("\(prefix)password: \(phrase)\nnext line", "\(prefix)password: \(r)\nnext line")
            assertRedacts("\(prefix)DB_PASSWORD: \(phrase)  # note", "\(prefix)DB_PASSWORD: \(r)  # note")
        }
        // Inline settings keep what follows a comma.
        assertRedacts("{password: abc, user: me}", "{password: \(r), user: me}")
    }

    func testPassLookAlikesAreNotSecrets() {
        for name in ["DB_PASS", "PGPASSWORD", "MYSQL_PASS", "dbpass", "PGPASS", "smtpPass", "MYSQLPASSWORD",
                     "clientsecret", "redisPassword", "db-pass"] {
            XCTAssertTrue(Redactor.isSecretName(name), name)
        }
        for name in ["PASS", "pass", "first_pass", "bypass", "compass", "pass_rate", "num_passes", "PGPASSFILE",
                     "forward_pass", "password_reset", "test_pass"] {
            XCTAssertFalse(Redactor.isSecretName(name), name)
        }
        assertUnchanged("--- PASS: TestFoo (0.00s)\nPASS: tests/test_io.py\nfirst_pass=3 bypass=cache pass_rate=0.9 forward_pass: 12 ms")
    }

    // MARK: private keys

    func testKeyHeaderWithoutFooterStaysOnItsLine() {
        // The R19 shape: an evidence line with a header and no footer inside a PR comment.
        let comment = """
        **Diagnosis:** `oom_gpu` in run r1 (job 42)

        ```
        log:3: RuntimeError: CUDA out of memory while loading -----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
        ```

        **Change:** batch_size 32 -> 16
        **Commit:** 3f2a9c1

        Re-launching job as r2 (from scratch).
        """
        let out = Redactor.redact(comment)
        XCTAssertFalse(out.contains("MIIEvQ"), out)
        XCTAssertTrue(out.contains("CUDA out of memory while loading -----BEGIN PRIVATE KEY----- \(r)\n```\n"), out)
        for kept in ["**Change:** batch_size 32 -> 16", "**Commit:** 3f2a9c1", "Re-launching job as r2 (from scratch)."] {
            XCTAssertTrue(out.contains(kept), "lost \(kept) in:\n\(out)")
        }
        XCTAssertEqual(out.components(separatedBy: "```").count, 3, "the code fence stays closed")
        XCTAssertEqual(out.components(separatedBy: "\n").count, comment.components(separatedBy: "\n").count)
        XCTAssertEqual(Redactor.redact(out), out)

        // In a doc bullet: the closing backtick stays, and the bullet stays one line.
        assertRedacts("- Evidence: `log:3: loading -----BEGIN RSA PRIVATE KEY----- MIIEow==`\n- Change: x",
                      "- Evidence: `log:3: loading -----BEGIN RSA PRIVATE KEY----- \(r)`\n- Change: x")
    }

    func testKeyBlockWithoutFooterEndsAtTheLastKeyLine() {
        let body = "MIIEowIBAAKCAQEAwJalrXUtnFEMIK7MDENGbPxRfiCY\nAbCdEf0123456789+/==\n"
        assertRedacts("x\n-----BEGIN RSA PRIVATE KEY-----\n\(body)Traceback (most recent call last):\nafter",
                      "x\n-----BEGIN RSA PRIVATE KEY-----\n\(r)\nTraceback (most recent call last):\nafter")
        // Cut off by the end of a log tail.
        assertRedacts("x\n-----BEGIN EC PRIVATE KEY-----\n\(body)", "x\n-----BEGIN EC PRIVATE KEY-----\n\(r)\n")
        // An encrypted PEM's headers and blank line are part of the block.
        assertRedacts("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123ABCD\n\n\(body)done.",
                      "-----BEGIN RSA PRIVATE KEY-----\n\(r)\ndone.")
        // A header alone is nothing to hide.
        assertUnchanged("expects a file starting with -----BEGIN PRIVATE KEY-----\nand nothing else")
    }

    func testKeyBlocksWithFootersInEveryLayout() {
        let b64 = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"
        // Every line with the same log prefix.
        assertRedacts("[rank0]: -----BEGIN PRIVATE KEY-----\n[rank0]: \(b64)\n[rank0]: -----END PRIVATE KEY-----\n[rank0]: done",
                      "[rank0]: -----BEGIN PRIVATE KEY-----\n\(r)\n-----END PRIVATE KEY-----\n[rank0]: done")
        // One line, as a JSON string with escaped newlines.
        assertRedacts(#"{"private_key": "-----BEGIN PRIVATE KEY-----\n\#(b64)\n-----END PRIVATE KEY-----\n", "n": 1}"#,
                      #"{"private_key": "-----BEGIN PRIVATE KEY----- \#(r) -----END PRIVATE KEY-----\n", "n": 1}"#)
        // PGP blocks, and two blocks in one text: the first without a footer.
        assertRedacts("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\(b64)\n-----END PGP PRIVATE KEY BLOCK-----",
                      "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\(r)\n-----END PGP PRIVATE KEY BLOCK-----")
        let two = "a -----BEGIN PRIVATE KEY----- \(b64)\nmiddle line of prose\n-----BEGIN PRIVATE KEY-----\n\(b64)\n-----END PRIVATE KEY-----\nend"
        assertRedacts(two, "a -----BEGIN PRIVATE KEY----- \(r)\nmiddle line of prose\n-----BEGIN PRIVATE KEY-----\n\(r)\n-----END PRIVATE KEY-----\nend")
    }

    // MARK: tracking a range through redaction

    func testTrackedRangeFollowsTheText() {
        let token = "ghp_" + RedactionVariantsTests.chars(36)
        let text = "x \(token) y CUDA out of memory z"
        let ns = text as NSString
        let match = ns.range(of: "CUDA out of memory")
        let (out, range) = Redactor.redact(text, tracking: match)
        XCTAssertEqual(out, "x ghp_\(r) y CUDA out of memory z")
        XCTAssertEqual((out as NSString).substring(with: range), "CUDA out of memory")
        // A range inside a secret grows to the whole replacement.
        let inside = NSRange(location: ns.range(of: token).location + 10, length: 3)
        let (_, grown) = Redactor.redact(text, tracking: inside)
        XCTAssertEqual((out as NSString).substring(with: grown), "ghp_\(r)")
    }

    // MARK: linear time

    func testHostileLongLinesTakeLinearTime() {
        let n = 20_000
        var lines: [(String, String)] = []
        for sep in ["-", ".", "_", "/", ":", "=", " ", "+", ": "] {
            lines.append(("a joined by '\(sep)'", Array(repeating: "a", count: n).joined(separator: sep)))
        }
        lines.append(("eyJ-", String(repeating: "eyJ-", count: n / 2)))
        lines.append(("sk-1-", String(repeating: "sk-1-", count: n / 2)))
        lines.append(("http://", String(repeating: "http://", count: n / 4)))
        lines.append(("password: a ", String(repeating: "password: a ", count: n / 6)))
        lines.append(("x: password: ", String(repeating: "x: password: ", count: n / 6)))
        lines.append(("key header", String(repeating: "-----BEGIN PRIVATE KEY-----", count: n / 14)))
        lines.append(("key headers on lines", String(repeating: "-----BEGIN PRIVATE KEY-----\n", count: n / 14)))
        lines.append(("wandb login", String(repeating: "wandb login ", count: n / 6)))
        lines.append(("a://a:a", "a://" + String(repeating: "a:", count: n)))
        for (name, line) in lines {
            let start = Date()
            _ = Redactor.redact(line)
            let seconds = Date().timeIntervalSince(start)
            // Quadratic behaviour takes tens of seconds at this size; linear takes milliseconds.
            XCTAssertLessThan(seconds, 1.0, "\(name): \(line.utf16.count) characters took \(seconds) s")
        }
    }
}
