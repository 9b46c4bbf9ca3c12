/// Placeholder, replaced by the local backend's supervisor.
public enum LocalSupervisor {
    /// Runs the supervisor for the run directory; returns the process exit status.
    public static func run(runDir: String) -> Int32 { 1 }
}
