import XCTest
final class ExptCoreTestsPlaceholder: XCTestCase { func testNothing() {} }
