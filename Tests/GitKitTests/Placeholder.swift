import XCTest
final class GitKitTestsPlaceholder: XCTestCase { func testNothing() {} }
