import ExptModel

extension BackendRegistry {
    /// Every backend expt ships. Adding one: a folder beside Local/ and Slurm/ with the backend,
    /// its `Settings` and its `entry`, plus one line here (docs/contributing.md).
    public static let standard = BackendRegistry([
        LocalBackend.entry,
        SlurmBackend.entry,
        ArgoBackend.entry,
        KubernetesBackend.entry,
        RunAIBackend.entry,
        OSMOBackend.entry,
    ])
}
