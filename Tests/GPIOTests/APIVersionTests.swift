import Foundation
import Testing

@testable import GPIO

/// The API generation compiled in must be the one of the header pkg-config finds (PKG_CONFIG_PATH
/// included, as in scripts/build-gpiod-v2), and the loaded library must be of the same generation.
@Suite("libgpiod API version")
struct APIVersionTests {
    static func pkgConfig(_ args: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["pkg-config"] + args + ["libgpiod"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileNoSuchFile) }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func compiledAPIMatchesTheHeaderFoundByPkgConfig() throws {
        let includedir = try Self.pkgConfig("--variable=includedir")
        let header = try String(contentsOfFile: includedir + "/gpiod.h", encoding: .utf8)
        let headerAPI: GPIOLibrary.API = header.contains("GPIOD_LINE_BULK_MAX_LINES") ? .v1 : .v2
        #expect(GPIOLibrary.compiledAPI == headerAPI)
        let version = try Self.pkgConfig("--modversion")
        #expect(version.hasPrefix("\(headerAPI.rawValue)."), "pkg-config says libgpiod \(version)")
    }

    @Test func loadedLibraryIsOfTheCompiledGeneration() {
        let major = GPIOLibrary.runtimeVersion.split(separator: ".").first.flatMap { Int($0) }
        #expect(major == GPIOLibrary.compiledAPI.rawValue, "loaded libgpiod \(GPIOLibrary.runtimeVersion)")
        #expect(GPIOLibrary.summary.hasPrefix("libgpiod API v\(GPIOLibrary.compiledAPI.rawValue)"))
    }
}
