import XCTest
@testable import ExptTOML

/// Random mutations of valid documents must never trap, and whatever comes
/// back must be internally consistent (errors and keys point at real lines).
final class FuzzTests: XCTestCase {
    /// Deterministic generator so a failure reproduces from its seed.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds = [
        """
        command = "python train.py --epochs 3"
        [env]
        WANDB_MODE = "offline"
        [resources]
        mem = "4G"
        cpus = 2
        [profiles.highmem]
        mem = "8G"
        """,
        """
        s = "esc \\t \\u00e9"
        ml = \"\"\"
        a\\
          b\"\"\"
        lit = '''x'''
        n = [1, 2.5, -3e2, 0x1F, inf, true, 1979-05-27T07:32:00Z, 07:32:00]
        t = { a.b = 1, c = [ { d = 2 } ] }
        [[arr]]
        k = 1
        [arr.sub]
        [[arr]]
        """,
    ]

    static let fragments = ["[", "]", "[[", "]]", "{", "}", "=", ",", ".", "\"", "'", "\"\"\"", "'''", "#", "\\",
                            "\n", "\r\n", "\r", " ", "\t", "0", "9", "-", "+", "_", "e", "x", "inf", "nan", "true",
                            ":", "T", "Z", "1979-05-27", "\\u", "\u{0}", "\u{7}", "é", "😀", "\u{FEFF}"]

    static func mutate(_ text: String, using rng: inout SplitMix64) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            let i = Int.random(in: 0...scalars.count, using: &rng)
            let piece = Array(fragments.randomElement(using: &rng)!.unicodeScalars)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where i < scalars.count: scalars.remove(at: i)
            case 1 where i < scalars.count: scalars.replaceSubrange(i...i, with: piece)
            case 2:
                let j = Int.random(in: i...scalars.count, using: &rng)
                let copy = Array(scalars[i..<j].prefix(40))
                scalars.insert(contentsOf: copy, at: Int.random(in: 0...scalars.count, using: &rng))
            default: scalars.insert(contentsOf: piece, at: i)
            }
        }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return String(out)
    }

    func testRandomMutationsNeverCrash() {
        var rng = SplitMix64(state: 0x5EED)
        var parsed = 0, rejected = 0
        for round in 0..<600 {
            let text = FuzzTests.mutate(FuzzTests.seeds[round % FuzzTests.seeds.count], using: &rng)
            let lineCount = text.unicodeScalars.filter { $0 == "\n" }.count + 1
            do {
                let table = try TOML.parse(text, file: "fuzz.toml")
                parsed += 1
                assertLinesInRange(table, lineCount, text)
            } catch let error as TOMLError {
                rejected += 1
                XCTAssertTrue((1...lineCount).contains(error.line), "line \(error.line) out of range: \(error) in \(text.debugDescription)")
                XCTAssertEqual(error.file, "fuzz.toml")
                XCTAssertFalse(error.message.isEmpty)
            } catch {
                XCTFail("non-TOMLError thrown: \(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 0, "mutations should sometimes stay valid")
        XCTAssertGreaterThan(rejected, 0)
    }

    func testRandomGarbageNeverCrashes() {
        var rng = SplitMix64(state: 42)
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<Int.random(in: 0...60, using: &rng) {
                text += FuzzTests.fragments.randomElement(using: &rng)!
            }
            _ = try? TOML.parse(text)
        }
    }

    private func assertLinesInRange(_ table: TOMLTable, _ lineCount: Int, _ text: String) {
        for key in table.keys {
            guard let line = table.line(of: key) else { return XCTFail("no line for \(key)") }
            XCTAssertTrue((1...lineCount).contains(line), "\(key) at line \(line) in \(text.debugDescription)")
            switch table[key] {
            case .table(let t)?: assertLinesInRange(t, lineCount, text)
            case .array(let a)?:
                for case .table(let t) in a { assertLinesInRange(t, lineCount, text) }
            default: break
            }
        }
    }
}
