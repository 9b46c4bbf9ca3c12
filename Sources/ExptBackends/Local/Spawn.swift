#if canImport(Glibc)
import Glibc
#endif
import ExptModel
import Foundation

/// `posix_spawn` with the few options the local backend needs. Chosen over Foundation's
/// `Process` because it must start a process in a new session (the supervisor) or a new
/// process group (the job), with files (not pipes) on its standard streams, and without
/// anything waiting on it.
enum Spawn {
    /// How the new process relates to us.
    enum Grouping {
        /// setsid(): a new session and process group, no controlling terminal, so the
        /// supervisor survives the terminal closing and expt's process group being signalled.
        case newSession
        /// setpgid(0, 0): a process group of its own, so the job and all its children can be
        /// signalled at once without signalling the supervisor.
        case newProcessGroup
    }

    // glibc defines POSIX_SPAWN_SETSID (0x80, glibc >= 2.26; this machine has 2.36) only under
    // _GNU_SOURCE, which Swift's Glibc module does not set. The value is part of glibc's ABI.
    private static let setsidFlag: Int32 = 0x80

    /// Signals whose disposition is reset to default in the child: a process started by a
    /// parent that ignores SIGHUP/SIGPIPE (the supervisor, the Swift runtime) would otherwise
    /// inherit "ignored" across exec.
    private static let resetSignals: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM]

    /// Starts `argv` and returns its pid. Streams are opened from paths in the child (stdout
    /// and stderr in append mode, created if missing); every other descriptor is closed.
    static func spawn(_ argv: [String], environment: [String: String], stdin: String, stdout: String,
                      stderr: String, grouping: Grouping) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let closeFrom = closeFromFunction { _ = closeFrom(&actions, 3) }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults)
        sigemptyset(&empty)
        for signal in resetSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)
        switch grouping {
        case .newSession: flags |= setsidFlag
        case .newProcessGroup:
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attr, 0)
        }
        let rc = posix_spawnattr_setflags(&attr, Int16(flags))
        guard rc == 0 else {
            throw ExptError(.failure, "cannot configure the process for \(argv[0]): \(String(cString: strerror(rc)))")
        }

        let envStrings = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawnRC = withCStrings(argv) { cArgv in
            withCStrings(envStrings) { cEnv in posix_spawn(&pid, argv[0], &actions, &attr, cArgv, cEnv) }
        }
        guard spawnRC == 0 else {
            throw ExptError(.failure, "cannot start \(argv[0]): \(String(cString: strerror(spawnRC)))",
                            hint: "check that \(argv[0]) exists and is executable")
        }
        return pid
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc >= 2.34), looked up at run time because
    /// the Glibc module hides it behind _GNU_SOURCE. Without it, only close-on-exec protects
    /// descriptors such as the branch lock (which BranchLock opens with O_CLOEXEC).
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFromFunction: CloseFrom? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
