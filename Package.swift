// swift-tools-version:6.0
import PackageDescription

// Layering (dependencies point down only; docs/architecture.md):
//   ExptTOML, ExptTemplates, CLibGit2, CCrypto -> GitKit, CSQLite
//   ExptModel (the backend boundary: seams and value types)
//   ExptDiagnosis (pure)          ExptBackends, ExptGitHub, ExptTrackers (adapters: ExptModel only)
//   ExptCore (the domain: ExptModel, GitKit, ExptDiagnosis, CSQLite)
//   ExptCLI -> expt
let package = Package(
    name: "expt",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "expt", targets: ["expt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2",
                       providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .target(name: "GitKit", dependencies: ["CLibGit2", "CCrypto"]),
        .target(name: "ExptTOML"),
        .target(name: "ExptTemplates", path: "templates", resources: ["agent-skill.md", "branch-doc.md", "expt.toml", "pr-comment.md", "rules.toml", "rules-schedulers.toml", "rules-frameworks.toml", "slurm.sbatch", "k8s-job.json", "osmo-workflow.yaml", "wandb-helper.py", "hooks"].map { Resource.embedInCode($0) }),
        .target(name: "ExptModel", dependencies: ["ExptTOML", "ExptTemplates"]),
        .target(name: "ExptDiagnosis", dependencies: ["ExptModel", "ExptTOML", "ExptTemplates"]),
        .target(name: "ExptCore", dependencies: ["ExptModel", "GitKit", "ExptTOML", "ExptTemplates", "ExptDiagnosis", "CSQLite"]),
        .target(name: "ExptBackends", dependencies: ["ExptModel", "ExptTemplates"]),
        .target(name: "ExptGitHub", dependencies: ["ExptModel"]),
        .target(name: "ExptTrackers", dependencies: ["ExptModel", "ExptTemplates"]),
        .target(name: "ExptCLI", dependencies: [
            "GitKit", "ExptModel", "ExptCore", "ExptDiagnosis", "ExptBackends", "ExptGitHub", "ExptTrackers", "ExptTemplates",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "expt", dependencies: ["ExptCLI"]),
        .target(name: "ExptTestSupport", dependencies: ["GitKit", "ExptModel", "ExptCore"]),

        .testTarget(name: "ExptModelTests", dependencies: ["ExptModel"]),
        .testTarget(name: "ExptCLITests", dependencies: ["ExptCLI", "ExptModel", "ExptCore", "ExptBackends", "ExptTrackers", "ExptTestSupport", "GitKit"],
                    exclude: ["Golden"]),
        .testTarget(name: "GitKitTests", dependencies: ["GitKit", "ExptTestSupport"]),
        .testTarget(name: "ExptTOMLTests", dependencies: ["ExptTOML"]),
        .testTarget(name: "ExptDiagnosisTests", dependencies: ["ExptDiagnosis", "ExptModel", "ExptTOML", "ExptTemplates"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ExptCoreTests", dependencies: ["ExptCore", "ExptModel", "ExptTOML", "ExptTemplates", "ExptDiagnosis", "ExptTestSupport"]),
        .testTarget(name: "ExptBackendsTests", dependencies: ["ExptBackends", "ExptModel", "ExptCore", "ExptTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "EndToEndTests", dependencies: ["ExptTestSupport", "GitKit"], exclude: ["Fixtures"]),
        .testTarget(name: "ExptTrackersTests", dependencies: ["ExptTrackers", "ExptModel", "ExptTestSupport"]),
        .testTarget(name: "ExptGitHubTests", dependencies: ["ExptGitHub", "ExptModel", "ExptCore", "ExptTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
