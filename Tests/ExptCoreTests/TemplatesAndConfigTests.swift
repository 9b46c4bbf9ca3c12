import XCTest
import ExptTestSupport
import ExptCore
import ExptModel
import ExptTemplates

final class TemplatesAndConfigTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testShippedExptTomlParsesAndDocumentsItsKeys() throws {
        var c = ExptConfig()
        try c.apply(text: try XCTUnwrap(EmbeddedTemplates.text("expt.toml")), file: "expt.toml", backends: BackendRegistry.fakes("local", "slurm"))
        XCTAssertEqual(c.command, "python3 train.py")
        XCTAssertEqual(c.resources.memoryMB, 4096)
        XCTAssertEqual(c.resources.timeLimitSeconds, 3600)
        XCTAssertEqual(c.profiles["highmem"]?.memoryMB, 16384)
        XCTAssertEqual(c.retry.maxFailures, 3)
        XCTAssertEqual(c.retry.memoryCapMB, 65536)
        XCTAssertEqual(c.health.systemic, 0.15)
    }

    func testWorktreeFileOverridesRootKeyByKey() throws {
        var c = ExptConfig()
        try c.apply(text: "command = \"a\"\n[resources]\nmem = \"4G\"\ncpus = 2\n[env]\nA = \"1\"\n", file: "root/expt.toml", backends: BackendRegistry.fakes("local", "slurm"))
        try c.apply(text: "[resources]\nmem = \"8G\"\n[env]\nB = \"2\"\n[profiles.big]\ngpus = 1\n", file: "wt/expt.toml", backends: BackendRegistry.fakes("local", "slurm"))
        XCTAssertEqual(c.command, "a")
        XCTAssertEqual(c.resources.memoryMB, 8192)
        XCTAssertEqual(c.resources.cpus, 2)
        XCTAssertEqual(c.env, ["A": "1", "B": "2"])
        XCTAssertEqual(try c.resources(profile: "big", overrides: Resources(cpus: 4)), Resources(memoryMB: 8192, cpus: 4, gpus: 1))
        XCTAssertEqual(c.sources, ["root/expt.toml", "wt/expt.toml"])
    }

    func testConfigErrorsNameFileLineAndKey() {
        func error(_ text: String) -> String {
            var c = ExptConfig()
            do { try c.apply(text: text, file: "x/expt.toml", backends: BackendRegistry.fakes("local", "slurm")); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(error("comand = \"a\"\n").contains("x/expt.toml:1") && error("comand = \"a\"\n").contains("command"))
        XCTAssertTrue(error("\n[resources]\ncpus = \"two\"\n").contains("x/expt.toml:3"))
        XCTAssertTrue(error("backend = \"k8s\"\n").contains("unknown backend 'k8s'"))
        XCTAssertTrue(error("[resources]\ntime = \"soon\"\n").contains("'soon' is not a time"))
        XCTAssertTrue(error("[retry]\nmemory_cap = \"big\"\n").contains("memory_cap"))
    }

    func testUnits() {
        XCTAssertEqual(Units.megabytes("4G"), 4096)
        XCTAssertEqual(Units.megabytes("1.5G"), 1536)
        XCTAssertEqual(Units.megabytes("512M"), 512)
        XCTAssertEqual(Units.megabytes("512MiB"), 512)
        XCTAssertEqual(Units.megabytes("2048"), 2048)
        XCTAssertEqual(Units.megabytes("1T"), 1 << 20)
        XCTAssertNil(Units.megabytes("lots"))
        XCTAssertNil(Units.megabytes("-1G"))
        XCTAssertEqual(Units.seconds("01:30:00"), 5400)
        XCTAssertEqual(Units.seconds("2-00:00:00"), 172_800)
        XCTAssertEqual(Units.seconds("1-12"), 129_600)
        XCTAssertEqual(Units.seconds("90m"), 5400)
        XCTAssertEqual(Units.seconds("5s"), 5)
        XCTAssertEqual(Units.seconds("30"), 1800, "a bare number is minutes, as Slurm reads --time")
        XCTAssertEqual(Units.seconds("10:30"), 630)
        XCTAssertNil(Units.seconds("soon"))
        XCTAssertEqual(Units.durationString(90061), "1-01:01:01")
        XCTAssertEqual(Units.memoryString(1536), "1536M")
        XCTAssertEqual(Units.memoryString(16384), "16G")
    }

    func testTemplateRendererRefusesUnknownPlaceholders() throws {
        XCTAssertEqual(try Templates.render("a {{x}} b {{ y }}", ["x": "1", "y": "2"]), "a 1 b 2")
        XCTAssertThrowsError(try Templates.render("{{nope}}", [:])) { XCTAssertTrue("\($0)".contains("unknown placeholder {{nope}}")) }
        XCTAssertThrowsError(try Templates.render("{{open", [:]))
    }

    func testShellQuoting() {
        XCTAssertEqual(ShellQuote.quote("plain-word_1.txt"), "plain-word_1.txt")
        XCTAssertEqual(ShellQuote.quote("it's"), "'it'\\''s'")
        XCTAssertEqual(ShellQuote.quote(""), "''")
        XCTAssertEqual(ShellQuote.join(["echo", "a b", "$HOME", "x;y"]), "echo 'a b' '$HOME' 'x;y'")
    }
}
