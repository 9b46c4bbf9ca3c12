import Foundation
import ExptCore
import ExptModel
#if canImport(XCTest)
import XCTest
#endif

/// A strict `ProcessRunner` for adapter tests: every call must have been announced with
/// `expect`, with exactly that argv. Unexpected calls are recorded as test failures AND thrown,
/// so the code under test stops where it went wrong. `assertAllUsed()` fails the test when an
/// announced call never happened.
///
/// By default calls must come in the announced order; with `ordered: false` each call takes the
/// first unused expectation whose argv matches (for code whose call order is not part of the
/// contract).
public final class FakeProcessRunner: ProcessRunner, @unchecked Sendable {
    /// One announced call and what it answers.
    public struct Expectation: Sendable {
        public var argv: [String]
        public var result: Outcome
        public var file: StaticString
        public var line: UInt
    }

    /// What an announced call does: return a result, or throw (e.g. "tool not installed").
    public enum Outcome: Sendable {
        case result(status: Int32, stdout: String, stderr: String)
        case error(any Error & Sendable)
    }

    /// A call the code under test made.
    public struct Call: Sendable, Equatable {
        public var argv: [String]
        public var stdin: Data?
        public var environment: [String: String]?
        public var cwd: String?
        /// stdin as text, for assertions.
        public var stdinText: String? { stdin.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Thrown for a call nobody announced.
    public struct UnexpectedCall: Error, CustomStringConvertible {
        public var description: String
    }

    private let lock = NSLock()
    private let ordered: Bool
    private var expectations: [Expectation] = []
    private var used: [Bool] = []
    private var _calls: [Call] = []
    private var _failures: [String] = []

    private let failTest: Bool

    /// `failTestOnUnexpectedCall: false` only records (for testing the fake itself).
    public init(ordered: Bool = true, failTestOnUnexpectedCall: Bool = true) {
        self.ordered = ordered; self.failTest = failTestOnUnexpectedCall
    }

    #if canImport(XCTest)
    /// A fake whose announced calls must all have happened when `testCase` ends: the check runs
    /// at teardown by construction, as cli/cli's exec stubs do, instead of being opt-in.
    public convenience init(checkedBy testCase: XCTestCase, ordered: Bool = true) {
        self.init(ordered: ordered)
        testCase.addTeardownBlock { [weak self] in self?.assertAllUsed() }
    }
    #endif

    /// Announces a call with exactly `argv` and its canned result.
    public func expect(_ argv: [String], stdout: String = "", stderr: String = "", status: Int32 = 0,
                       file: StaticString = #filePath, line: UInt = #line) {
        add(Expectation(argv: argv, result: .result(status: status, stdout: stdout, stderr: stderr),
                        file: file, line: line))
    }

    /// Announces a call with exactly `argv` that throws `error` (e.g. a missing tool).
    public func expect(_ argv: [String], throwing error: any Error & Sendable,
                       file: StaticString = #filePath, line: UInt = #line) {
        add(Expectation(argv: argv, result: .error(error), file: file, line: line))
    }

    /// Every call made so far, in order.
    public var calls: [Call] { lock.withLock { _calls } }
    /// Descriptions of unexpected calls so far (also reported to XCTest when available).
    public var failures: [String] { lock.withLock { _failures } }

    public func run(_ argv: [String], stdin: Data?, environment: [String: String]?,
                    cwd: String?) throws -> ProcessResult {
        let outcome: Outcome? = lock.withLock {
            _calls.append(Call(argv: argv, stdin: stdin, environment: environment, cwd: cwd))
            let index: Int?
            if ordered {
                index = used.firstIndex(of: false).flatMap { expectations[$0].argv == argv ? $0 : nil }
            } else {
                index = expectations.indices.first { !used[$0] && expectations[$0].argv == argv }
            }
            guard let index else { return nil }
            used[index] = true
            return expectations[index].result
        }
        guard let outcome else {
            let next = lock.withLock { used.firstIndex(of: false).map { expectations[$0].argv } }
            let message = "unexpected command \(argv)"
                + (next.map { "; next expected: \($0)" } ?? "; no more commands expected")
            lock.withLock { _failures.append(message) }
            #if canImport(XCTest)
            if failTest { XCTFail("FakeProcessRunner: \(message)") }
            #endif
            throw UnexpectedCall(description: message)
        }
        switch outcome {
        case let .result(status, stdout, stderr):
            return ProcessResult(argv: argv, status: status, stdout: stdout, stderr: stderr)
        case let .error(error):
            throw error
        }
    }

    /// Fails the test for every announced call that never happened.
    public func assertAllUsed(file: StaticString = #filePath, line: UInt = #line) {
        let missing = lock.withLock { expectations.indices.filter { !used[$0] }.map { expectations[$0] } }
        for expectation in missing {
            #if canImport(XCTest)
            XCTFail("FakeProcessRunner: expected command never ran: \(expectation.argv)",
                    file: expectation.file, line: expectation.line)
            #else
            preconditionFailure("expected command never ran: \(expectation.argv)")
            #endif
        }
        _ = (file, line)
    }

    private func add(_ expectation: Expectation) {
        lock.withLock { expectations.append(expectation); used.append(false) }
    }
}
