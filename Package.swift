// swift-tools-version:6.0
import PackageDescription

// Layering (dependencies point down only): CLibGit2/CSQLite -> GitKit, ExptTOML
// -> ExptDiagnosis -> ExptCore -> ExptBackends, ExptGitHub -> ExptCLI -> expt.
// See docs/architecture.md.
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
        .target(name: "GitKit", dependencies: ["CLibGit2"]),
        .target(name: "ExptTOML"),
        .target(name: "ExptTemplates"),
        .target(name: "ExptDiagnosis", dependencies: ["ExptTOML", "ExptTemplates"]),
        .target(name: "ExptCore", dependencies: ["GitKit", "ExptTOML", "ExptTemplates", "ExptDiagnosis", "CSQLite"]),
        .target(name: "ExptBackends", dependencies: ["ExptCore", "ExptTemplates"]),
        .target(name: "ExptGitHub", dependencies: ["ExptCore"]),
        .target(name: "ExptCLI", dependencies: [
            "GitKit", "ExptCore", "ExptDiagnosis", "ExptBackends", "ExptGitHub",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "expt", dependencies: ["ExptCLI"]),
        .target(name: "ExptTestSupport", dependencies: ["GitKit", "ExptCore"]),

        .testTarget(name: "GitKitTests", dependencies: ["GitKit", "ExptTestSupport"]),
        .testTarget(name: "ExptTOMLTests", dependencies: ["ExptTOML"]),
        .testTarget(name: "ExptDiagnosisTests", dependencies: ["ExptDiagnosis", "ExptTOML", "ExptTemplates"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ExptCoreTests", dependencies: ["ExptCore", "GitKit", "ExptTemplates", "ExptDiagnosis", "ExptTestSupport"]),
        .testTarget(name: "ExptBackendsTests", dependencies: ["ExptBackends", "ExptCore", "ExptTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "EndToEndTests", dependencies: ["ExptTestSupport", "GitKit"], exclude: ["Fixtures"]),
        .testTarget(name: "ExptGitHubTests", dependencies: ["ExptGitHub", "ExptCore", "ExptTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
