import ExptCLI
import GitKit

@main
struct Entrypoint {
    static func main() { Expt.main() }
}

/// Interposes libgit2's call to mbedTLS's CA-bundle parser (this executable exports its
/// symbols), so the bundle is parsed only before a push (GitKit's DeferredCertificates).
@_cdecl("mbedtls_x509_crt_parse_file")
public func exptDeferredCertificateParse(_ chain: UnsafeMutableRawPointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    DeferredCertificates.parse(chain, path)
}
