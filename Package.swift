// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "itpump",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PumpCore", targets: ["PumpCore"]),
        .library(name: "GPIO", targets: ["GPIO"]),
        .library(name: "PumpJournal", targets: ["PumpJournal"]),
        .library(name: "PumpRig", targets: ["PumpRig"]),
        .library(name: "PumpRuntime", targets: ["PumpRuntime"]),
        .library(name: "ITPumpFiles", targets: ["ITPumpFiles"]),
        .library(name: "PumpSim", targets: ["PumpSim"]),
        .executable(name: "itpump", targets: ["itpump"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // Pure control core: no I/O, no clock reads. Every call takes the instant.
        .target(name: "PumpCore"),
        // libgpiod, v1 (1.6) or v2 (2.x): whichever `pkg-config libgpiod` finds. See scripts/build-gpiod-v2.
        .systemLibrary(
            name: "CGPIOD",
            pkgConfig: "libgpiod",
            providers: [.apt(["libgpiod-dev"])]
        ),
        // The only C that calls libgpiod: one API over both generations, chosen from the header.
        .target(name: "CGPIODShim", dependencies: ["CGPIOD"]),
        // Swift binding: chips, line lookup, requests, edge events, typed errors.
        .target(name: "GPIO", dependencies: ["CGPIODShim"]),
        // The system's SQLite 3 (libsqlite3-dev): no package to compile, see README "Journal".
        .systemLibrary(
            name: "CSQLite",
            // No pkgConfig on purpose: sqlite3.h and libsqlite3 are on the default paths, and SwiftPM's
            // own .pc parser would add -L/usr/lib/<arch> to every link, where it shadows the private
            // libgpiod 2.x prefix of scripts/build-gpiod-v2 (its -lgpiod then binds the system's 1.6).
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // Durable therapy journal on SQLite: events, commands, checkpoints, recovery, verify, history.
        .target(name: "PumpJournal", dependencies: ["PumpCore", "CSQLite"]),
        // The bench rig: rig files and their model, the GPIO rig driver and its lines (real or
        // simulated), the monotonic clock and timing statistics the driver times its strokes with.
        .target(
            name: "PumpRig",
            dependencies: [
                "PumpCore",
                "GPIO",
                // For `FileKind.rig` (itpump validate): ITPumpFiles must never depend back on PumpRig.
                "ITPumpFiles",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The runtime of `itpump run`: the runner and its loop over the core, the journal glue, the
        // control channel (Unix socket, JSON lines), both backends' plumbing (GPIO rig, simulated pump),
        // signals, board services (systemd, watchdog, real-time), the state file.
        .target(
            name: "PumpRuntime",
            dependencies: [
                "PumpRig",
                "PumpCore",
                "PumpSim",
                "PumpJournal",
                "ITPumpFiles",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Pump, prescription, scenario and sweep files (YAML): parsing, units, diagnostics with lines.
        .target(
            name: "ITPumpFiles",
            dependencies: ["PumpCore", "PumpSim", .product(name: "Yams", package: "Yams")]
        ),
        // The simulated pump, the discrete-event runner, pharmacokinetics and reports. No clock reads.
        .target(name: "PumpSim", dependencies: ["PumpCore"]),
        .executableTarget(
            name: "itpump",
            dependencies: [
                "PumpCore",
                "GPIO",
                "HILKit",
                "PumpJournal",
                "PumpRig",
                "PumpRuntime",
                .product(name: "Logging", package: "swift-log"),
                "ITPumpFiles",
                "PumpSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "PumpCoreTests",
            dependencies: [
                "PumpCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "GPIOTests", dependencies: ["GPIO", "CGPIODShim"]),
        // HIL analysis: kernel GPIO trace → edges, strokes, timing, trumpet curve, JUnit XML.
        .target(name: "HILKit"),
        .testTarget(name: "HILKitTests", dependencies: ["HILKit"]),
        .testTarget(
            name: "PumpJournalTests",
            dependencies: ["PumpJournal", "PumpCore", "PumpSim", "CSQLite", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "PumpRigTests",
            dependencies: [
                "PumpRig", "PumpCore", "GPIO", "ITPumpFiles", "FileFuzzing", "RigTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "PumpRuntimeTests",
            dependencies: [
                "PumpRuntime", "PumpRig", "PumpCore", "GPIO", "PumpSim", "PumpJournal", .product(name: "Logging", package: "swift-log"),
                "ITPumpFiles", "FileFuzzing", "RigTestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // Seeded fuzz inputs for the YAML loaders, shared by ITPumpFilesTests, PumpRigTests and PumpRuntimeTests.
        .target(name: "FileFuzzing", dependencies: ["PumpSim"], path: "Tests/FileFuzzing"),
        // Test rig lines on a manual clock, a fast rig and a valid rig file, shared by PumpRigTests and PumpRuntimeTests.
        .target(name: "RigTestSupport", dependencies: ["PumpRig", "PumpCore"], path: "Tests/RigTestSupport"),
        .testTarget(
            name: "ITPumpFilesTests",
            dependencies: [
                "ITPumpFiles", "PumpCore", "PumpSim", "FileFuzzing",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "PumpSimTests",
            dependencies: [
                "PumpSim", "PumpCore", "ITPumpFiles",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // Fuzzing (Fuzz/, scripts/fuzz): the therapy oracle (safety invariants checked on the simulated
        // pump's truth, shared with the property tests), the fuzz targets, and the driver that replays
        // inputs (a plain build) or runs libFuzzer (scripts/fuzz builds it with -sanitize=fuzzer).
        .target(name: "TherapyOracle", dependencies: ["PumpCore", "PumpSim"], path: "Fuzz/TherapyOracle"),
        .target(name: "FuzzTargets", dependencies: ["TherapyOracle", "ITPumpFiles", "PumpRuntime", "PumpCore"], path: "Fuzz/Targets"),
        .executableTarget(name: "itpump-fuzz", dependencies: ["FuzzTargets", "TherapyOracle"], path: "Fuzz/Main"),
        .testTarget(
            name: "TherapyOracleTests",
            dependencies: ["TherapyOracle", "FuzzTargets", "PumpCore", "PumpSim", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
