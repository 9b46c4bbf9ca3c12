import XCTest
final class ExptBackendsTestsPlaceholder: XCTestCase { func testNothing() {} }
