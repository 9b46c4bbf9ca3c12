import XCTest
final class ExptTOMLTestsPlaceholder: XCTestCase { func testNothing() {} }
