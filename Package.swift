// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "itpump",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PumpCore", targets: ["PumpCore"]),
        .executable(name: "itpump", targets: ["itpump"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Pure control core: no I/O, no clock reads. Every call takes the instant.
        .target(name: "PumpCore"),
        .executableTarget(
            name: "itpump",
            dependencies: [
                "PumpCore",
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
    ],
    swiftLanguageModes: [.v6]
)
