#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// libgit2 as Debian builds it (with mbedTLS) parses the whole system CA bundle when it
/// initialises: about 6 ms of every command, though only a push over HTTPS needs it. The expt
/// executable defines the parser's symbol (`mbedtls_x509_crt_parse_file`, which interposes
/// libgit2's call, as an executable's exported symbols do) and hands the call here: it is
/// recorded and replayed into the same certificate chain, with the real parser, before the
/// first connection (`loadPending`, from `push`). A libgit2 built with OpenSSL never calls it.
public enum DeferredCertificates {
    private typealias Parse = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Int32
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pending: [(chain: UnsafeMutableRawPointer?, path: String)] = []
    nonisolated(unsafe) private static var loaded = false

    /// The next definition after the caller's: mbedTLS's own (RTLD_NEXT is `(void *)-1`).
    private static func real() -> Parse? {
        dlsym(UnsafeMutableRawPointer(bitPattern: -1), "mbedtls_x509_crt_parse_file").map { unsafeBitCast($0, to: Parse.self) }
    }

    /// What the interposed parser does: defer until `loadPending`, parse at once after it.
    public static func parse(_ chain: UnsafeMutableRawPointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
        lock.lock(); defer { lock.unlock() }
        guard let path else { return -1 }
        if loaded { return real()?(chain, path) ?? -1 }
        pending.append((chain, String(cString: path)))
        return 0
    }

    /// Parses what was deferred (once); returns how many parses failed.
    @discardableResult
    public static func loadPending() -> Int {
        lock.lock(); defer { lock.unlock() }
        loaded = true
        let parse = real()
        var failed = 0
        for p in pending where (parse.map { $0(p.chain, p.path) } ?? -1) < 0 { failed += 1 }
        pending = []
        return failed
    }

    /// Defers again (tests: a push earlier in the same process has loaded).
    static func deferAgainForTesting() { lock.lock(); loaded = false; lock.unlock() }

    /// How many parses wait (tests).
    public static var pendingCount: Int { lock.lock(); defer { lock.unlock() }; return pending.count }
}
