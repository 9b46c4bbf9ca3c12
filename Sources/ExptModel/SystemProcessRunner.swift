import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `ProcessRunner`: runs argv with Foundation's `Process`, never through a shell.
///
/// stdout and stderr are drained on their own threads while stdin is written on a third, so a
/// child that writes a lot before reading its input (or never reads it) cannot deadlock us on a
/// full pipe. `environment` is merged over the inherited environment (it overrides, it does not
/// replace), because callers only ever want to add a variable or two.
///
/// Every command has a deadline (`timeout`, default 120 s, `EXPT_COMMAND_TIMEOUT` in the
/// environment value): a hung ssh, sacct or gh becomes `ProcessError.timedOut`, naming the
/// command, instead of a hang. The child gets SIGTERM at the deadline and SIGKILL 2 s later.
public struct SystemProcessRunner: ProcessRunner {
    public static let defaultTimeout: TimeInterval = 120
    public var timeout: TimeInterval?

    public init(timeout: TimeInterval? = SystemProcessRunner.defaultTimeout) { self.timeout = timeout }

    public func run(_ argv: [String], stdin: Data?, environment: [String: String]?,
                    cwd: String?) throws -> ProcessResult {
        guard let tool = argv.first, !tool.isEmpty else {
            throw ExptError(.invalidInput, "cannot run an empty command")
        }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment ?? [:] { env[key] = value }
        guard let executable = Self.findExecutable(tool, path: env["PATH"]) else {
            throw ProcessError.toolMissing(tool: tool)
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        process.environment = env
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let inPipe: Pipe? = stdin == nil ? nil : Pipe()
        // No stdin given: /dev/null, so a tool that prompts (ssh, gh) fails instead of hanging.
        process.standardInput = inPipe ?? FileHandle.nullDevice

        do {
            try process.run()
        } catch {
            throw ProcessError.couldNotStart(tool: tool, reason: error.localizedDescription, cwd: cwd)
        }

        let group = DispatchGroup()
        let out = DataBox(), err = DataBox()
        Self.drain(outPipe.fileHandleForReading, into: out, group: group)
        Self.drain(errPipe.fileHandleForReading, into: err, group: group)
        if let inPipe, let stdin {
            group.enter()
            Thread.detachNewThread {
                // A child that exits without reading would raise SIGPIPE, which kills expt by
                // default. Blocked on this thread only (ignoring it process-wide would leak into
                // every child, breaking `yes | head`): the write fails with EPIPE instead and the
                // pending signal is discarded when the thread ends.
                Self.blockSIGPIPEOnThisThread()
                try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
                try? inPipe.fileHandleForWriting.close()
                group.leave()
            }
        }
        if let timeout, group.wait(timeout: .now() + timeout) == .timedOut {
            // The drains end when every holder of the pipes is gone; a grandchild that keeps
            // them open is not waited for beyond the grace.
            process.terminate()
            if group.wait(timeout: .now() + 2) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = group.wait(timeout: .now() + 1)
            }
            throw ProcessError.timedOut(argv: argv, seconds: timeout)
        } else if timeout == nil {
            group.wait()
        }
        process.waitUntilExit()

        // A signal death is reported the way shells do (128 + n), so callers see one number.
        let status = process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
        return ProcessResult(argv: argv, status: status,
                             stdout: String(decoding: out.data, as: UTF8.self),
                             stderr: String(decoding: err.data, as: UTF8.self))
    }

    /// The absolute path `name` resolves to on `path` (a `PATH` value), or nil. A name with a
    /// slash is taken as a path, like a shell does.
    public static func findExecutable(_ name: String, path: String?) -> String? {
        let fm = FileManager.default
        if name.contains("/") { return fm.isExecutableFile(atPath: name) ? name : nil }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue,
               fm.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }

    private static func blockSIGPIPEOnThisThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private static func drain(_ handle: FileHandle, into box: DataBox, group: DispatchGroup) {
        group.enter()
        Thread.detachNewThread {
            box.data = handle.readDataToEndOfFile()
            group.leave()
        }
    }
}

/// Written by exactly one drain thread, read after `group.wait()`: the group orders the accesses.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}

/// `EXPT_TRACE=1`: every external command, its exit status and its duration on stderr, the way
/// `GH_DEBUG` shows what gh does, so a user can see what expt ran when a scheduler misbehaves.
public struct TracingRunner: ProcessRunner {
    public let base: ProcessRunner
    public let write: @Sendable (String) -> Void

    public init(base: ProcessRunner, write: @escaping @Sendable (String) -> Void) { self.base = base; self.write = write }

    public func run(_ argv: [String], stdin: Data?, environment: [String: String]?,
                    cwd: String?) throws -> ProcessResult {
        let start = Date()
        func ms() -> Int { Int(Date().timeIntervalSince(start) * 1000) }
        do {
            let r = try base.run(argv, stdin: stdin, environment: environment, cwd: cwd)
            write("expt: trace: \(Redactor.redact(ShellQuote.join(argv))) → exit \(r.status) in \(ms()) ms\n")
            return r
        } catch {
            write("expt: trace: \(Redactor.redact(ShellQuote.join(argv))) → \(error) after \(ms()) ms\n")
            throw error
        }
    }
}

/// Runs every command through an exec prefix such as `["ssh", "login1"]` or `["bash", "-c"]`.
///
/// Such prefixes hand their last argument to a shell, so argv is quoted into ONE string
/// (`ShellQuote.join`) and the remote shell sees each argument exactly once. A prefix element
/// containing `{cmd}` receives the quoted command in place instead of having it appended, for
/// wrappers like `["wsl", "-e", "bash", "-c", "export KUBECONFIG=/k && {cmd}"]`.
/// `environment` and `cwd` apply to the local prefix process only, never to the remote command.
///
/// `exports` are set for the command on the far side of the prefix, inside the one string
/// (`export KUBECONFIG=/k && argo …`): the local process's environment does not cross `ssh` or
/// `wsl -e bash -c`.
public struct PrefixedRunner: ProcessRunner {
    public let prefix: [String]
    public let base: ProcessRunner
    public let exports: [String: String]

    public init(prefix: [String], base: ProcessRunner = SystemProcessRunner(), exports: [String: String] = [:]) {
        self.prefix = prefix; self.base = base; self.exports = exports
    }

    /// The argv actually run for `argv`.
    public func wrap(_ argv: [String]) -> [String] {
        guard !prefix.isEmpty else { return argv }
        let command = (exports.sorted { $0.key < $1.key }.map { "export \($0.key)=\(ShellQuote.quote($0.value)) && " }
                       .joined()) + ShellQuote.join(argv)
        if prefix.contains(where: { $0.contains("{cmd}") }) {
            return prefix.map { $0.replacingOccurrences(of: "{cmd}", with: command) }
        }
        return prefix + [command]
    }

    public func run(_ argv: [String], stdin: Data?, environment: [String: String]?,
                    cwd: String?) throws -> ProcessResult {
        try base.run(wrap(argv), stdin: stdin, environment: environment, cwd: cwd)
    }
}
