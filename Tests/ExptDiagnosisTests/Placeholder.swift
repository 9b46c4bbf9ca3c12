import XCTest
final class ExptDiagnosisTestsPlaceholder: XCTestCase { func testNothing() {} }
