import XCTest
import Foundation
import ExptModel
import ExptTemplates

/// The one `{{name}}` renderer (both modes), the override lookup, and the embedded templates.
final class TemplateRendererTests: XCTestCase {
    /// The package root: Tests/ExptCoreTests/<this file> is three levels down.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func strict(_ text: String, _ values: [String: String]) throws -> String {
        try TemplateRenderer.render(text, values, missing: .error, templateName: "t.md")
    }

    func dropping(_ text: String, _ values: [String: String]) throws -> String {
        try TemplateRenderer.render(text, values, missing: .dropLine, templateName: "t.sbatch")
    }

    func testStrictFillsTrimmedNamesAndNeverRescansValues() throws {
        XCTAssertEqual(try strict("a {{x}} b {{ y }}\n{{x}}", ["x": "1", "y": "{{x}}"]), "a 1 b {{x}}\n1")
        XCTAssertEqual(try strict("no placeholders } { here", [:]), "no placeholders } { here")
    }

    func testStrictUnknownNameIsAnErrorListingTheKnownNames() {
        XCTAssertThrowsError(try strict("a {{nope}} {{", ["b": "1", "a": "2"])) { error in
            let e = error as? TemplateError
            XCTAssertEqual(e?.message, "template t.md: unknown placeholder {{nope}}")
            XCTAssertEqual(e?.hint, "known placeholders: a, b")
            XCTAssertEqual((error as? UserFacingError)?.kind, .invalidInput)
            XCTAssertTrue("\(error)".contains("hint: known placeholders: a, b"), "\(error)")
        }
        // `{{?name}}` is the sbatch rule only: strictly it is an unknown name.
        XCTAssertThrowsError(try strict("{{?a}}line", ["a": "1"])) {
            XCTAssertEqual(($0 as? TemplateError)?.message, "template t.md: unknown placeholder {{?a}}")
        }
    }

    func testStrictUnclosedBracesAreAnError() {
        for text in ["{{open", "a {{x}} then {{ x", "{{x}"] {
            XCTAssertThrowsError(try strict(text, ["x": "1"]), text) {
                XCTAssertEqual(($0 as? TemplateError)?.message, "template t.md: '{{' without a closing '}}'")
                XCTAssertNil(($0 as? TemplateError)?.hint)
            }
        }
    }

    func testDropLineRules() throws {
        let t = "a={{a}}\n{{?flag}}flag line\nb={{b}} and {{a}}\n{{?missing}}gone\n{{?flag}}x={{ a }}\n"
            + "{{?flag}}y={{b}}\nplain\nopen {{a\n"
        XCTAssertEqual(try dropping(t, ["a": "1", "flag": ""]),
                       "a=1\nflag line\nx=1\nplain\nopen {{a\n")
        // A value is inserted as is, even when it looks like a placeholder; empty lines stay.
        XCTAssertEqual(try dropping("v={{a}}\n\n{{b}}", ["a": "{{b}}"]), "v={{b}}\n")
        XCTAssertEqual(TemplateRenderer.renderDroppingLines(t, [:]), "plain\nopen {{a\n")
    }

    func testShippedSbatchTemplateDropsEveryLineWithoutAValue() throws {
        let text = try XCTUnwrap(EmbeddedTemplates.text("slurm.sbatch"))
        let script = try dropping(text, ["job_name": "j"])
        XCTAssertTrue(script.hasPrefix("#!/bin/bash\n"))
        XCTAssertTrue(script.contains("#SBATCH --job-name=j\n"))
        XCTAssertTrue(script.contains("#SBATCH --open-mode=append\n"))
        XCTAssertFalse(script.contains("{{"))
        XCTAssertFalse(script.contains("--requeue"))
    }

    func testRepoOverrideWinsAndAMissingTemplateIsAnError() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("expt-tpl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".expt/templates"),
                                                withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        try "mine {{x}}\n{{?y}}gone\n".write(to: root.appendingPathComponent(".expt/templates/pr-comment.md"),
                                             atomically: true, encoding: .utf8)
        let templates = Templates(repoRoot: root.path)
        XCTAssertEqual(try templates.render("pr-comment.md", ["x": "1"], missing: .dropLine), "mine 1\n")
        XCTAssertThrowsError(try templates.render("pr-comment.md", ["x": "1"])) // strict: {{?y}} is unknown
        XCTAssertEqual(try templates.text("branch-doc.md"), EmbeddedTemplates.text("branch-doc.md"))
        XCTAssertThrowsError(try Templates(repoRoot: nil).text("no-such.md")) {
            XCTAssertEqual(($0 as? ExptError)?.kind, .failure)
        }
    }

    /// SwiftPM embeds templates/ (Package.swift); EmbeddedTemplates maps names to the generated
    /// arrays by hand, so every file there must be reachable by its path, byte for byte.
    func testEveryFileInTemplatesIsEmbeddedByteForByte() throws {
        let base = Self.root.appendingPathComponent("templates")
        var onDisk: [String: Data] = [:]
        let e = try XCTUnwrap(FileManager.default.enumerator(atPath: base.path))
        while let rel = e.nextObject() as? String {
            // SwiftPM skips dot files; Swift files are the target's sources.
            if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) || rel.hasSuffix(".swift") { continue }
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: base.appendingPathComponent(rel).path, isDirectory: &isDir)
            if !isDir.boolValue { onDisk[rel] = try Data(contentsOf: base.appendingPathComponent(rel)) }
        }
        XCTAssertTrue(onDisk.keys.contains("hooks/pre-commit"), "\(onDisk.keys.sorted())")
        XCTAssertEqual(EmbeddedTemplates.names, onDisk.keys.sorted(),
                       "add the file to EmbeddedTemplates.files and the ExptTemplates resources in Package.swift")
        for (name, bytes) in onDisk {
            XCTAssertEqual(EmbeddedTemplates.text(name).map { Data($0.utf8) }, bytes, "\(name) differs from its embedded copy")
        }
    }
}
