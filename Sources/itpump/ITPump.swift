import ArgumentParser
import Foundation
import PumpCore
import PumpRig
import PumpRuntime
import PumpSim

@main
struct ITPump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itpump",
        abstract: "Intrathecal baclofen pump controller: control core, simulator and bench-rig runner.",
        version: ITPumpVersion.current,
        subcommands: [Simulate.self, SweepCommand.self, Validate.self, RunCommand.self, CtlCommand.self, Demo.self,
                      Bench.self, GPIOCommand.self, HILCommand.self, History.self, JournalCommand.self]
    )

    static func main() {
        // A file size limit makes a write fail with EFBIG (reported with the file's name) instead of
        // killing the process with a half-written file.
        signal(SIGXFSZ, SIG_IGN)
        main(RunCommandArguments.normalized(Array(CommandLine.arguments.dropFirst())))
        // Standard output that could not be written (a full disk, a closed pipe's error) is a failure,
        // not a silent exit 0 with a report missing.
        if fflush(nil) != 0 {
            printError("Error: standard output: cannot be written (\(String(cString: strerror(errno)))); the report is incomplete")
            Foundation.exit(1)
        }
    }
}
