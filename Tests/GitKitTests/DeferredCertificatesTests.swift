#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import GitKit

/// The CA bundle whose parse the expt executable defers (DeferredCertificates): recorded, not
/// parsed, then parsed by mbedTLS's own parser into the same chain when a push needs it.
final class DeferredCertificatesTests: XCTestCase {
    func testADeferredParseFillsTheSameChainWhenLoaded() throws {
        let bundle = "/etc/ssl/certs/ca-certificates.crt"
        _ = LibGit2.initialized   // loads libgit2 and, where it is built with mbedTLS, libmbedx509
        guard FileManager.default.fileExists(atPath: bundle),
              let initSym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mbedtls_x509_crt_init"),
              let freeSym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mbedtls_x509_crt_free") else {
            throw XCTSkip("libgit2 here does not use mbedTLS, or there is no CA bundle")
        }
        typealias Fn = @convention(c) (UnsafeMutableRawPointer?) -> Void
        // mbedtls_x509_crt starts with `int own_buffer; mbedtls_x509_buf raw {int tag; size_t len; ...}`:
        // raw.len, at offset 16, is the first certificate's DER length once one is parsed.
        let chain = UnsafeMutableRawPointer.allocate(byteCount: 8192, alignment: 16)
        defer { unsafeBitCast(freeSym, to: Fn.self)(chain); chain.deallocate() }
        unsafeBitCast(initSym, to: Fn.self)(chain)
        let parsedLength = { chain.load(fromByteOffset: 16, as: Int.self) }

        DeferredCertificates.deferAgainForTesting()
        let before = DeferredCertificates.pendingCount
        XCTAssertEqual(bundle.withCString { DeferredCertificates.parse(chain, $0) }, 0)
        XCTAssertEqual(DeferredCertificates.pendingCount, before + 1)
        XCTAssertEqual(parsedLength(), 0, "nothing is parsed while deferred")
        XCTAssertEqual(DeferredCertificates.loadPending(), 0)
        XCTAssertEqual(DeferredCertificates.pendingCount, 0)
        XCTAssertGreaterThan(parsedLength(), 0, "the bundle's first certificate is in the chain")
    }
}
