#if canImport(Glibc)
import Glibc
#endif
import Foundation

// Written from signal handlers, so plain globals with constant initializers.
nonisolated(unsafe) private var wakePipeWrite: Int32 = -1
nonisolated(unsafe) var terminationRequested: sig_atomic_t = 0

/// What lets an idle supervisor sleep in one `poll(2)` until something it must act on happens,
/// instead of waking every 100 ms to look: the job exiting (SIGCHLD), a request to stop
/// (SIGTERM/SIGINT), a `cancel-requested` marker appearing in the run directory (inotify),
/// the kernel OOM-killing in the job's cgroup (an eventfd or inotify on memory.events), or the
/// next deadline (time limit, kill grace, memory sample).
final class SupervisorWaker {
    private var pipeRead: Int32 = -1
    private var inotifyFD: Int32 = -1
    private var extraFDs: [Int32] = []
    /// False when inotify is unavailable: the caller then checks the run directory itself at
    /// least once a second.
    private(set) var watchesFiles = false

    init(runDir: String) {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
            pipeRead = fds[0]
            wakePipeWrite = fds[1]
        }
        let onChild: @convention(c) (Int32) -> Void = { _ in SupervisorWaker.poke() }
        let onTerminate: @convention(c) (Int32) -> Void = { _ in terminationRequested = 1; SupervisorWaker.poke() }
        signal(SIGCHLD, onChild)
        signal(SIGTERM, onTerminate)
        signal(SIGINT, onTerminate)
        inotifyFD = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if inotifyFD >= 0, inotify_add_watch(inotifyFD, runDir, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0 {
            watchesFiles = true
        }
    }

    /// Async-signal-safe: one byte into the pipe, which makes the next or current poll return.
    private static func poke() {
        var byte: UInt8 = 1
        _ = write(wakePipeWrite, &byte, 1)
    }

    /// Also wake when `fd` becomes readable (an eventfd the kernel signals).
    func watch(fd: Int32) { extraFDs.append(fd) }

    /// Also wake when the file at `path` is modified (cgroup v2's memory.events).
    func watchFile(_ path: String) -> Bool {
        inotifyFD >= 0 && inotify_add_watch(inotifyFD, path, UInt32(IN_MODIFY)) >= 0
    }

    /// Sleeps until an event or `deadline` (uptime nanoseconds; nil = no deadline), then
    /// drains what woke it. Spurious returns are fine: the caller re-checks everything.
    func sleep(until deadline: UInt64?) {
        var timeout: Int32 = -1
        if let deadline {
            let now = DispatchTime.now().uptimeNanoseconds
            timeout = deadline <= now ? 0 : Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
        }
        var fds = ([pipeRead, inotifyFD] + extraFDs).filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard poll(&fds, nfds_t(fds.count), timeout) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        for entry in fds where entry.revents != 0 {
            while read(entry.fd, &buffer, buffer.count) > 0 {}
        }
    }
}
