import CGPIODShim
import Testing

@testable import GPIO

@Suite("Value types and conversions")
struct ValueTypeTests {
    @Test(arguments: [("5", LineSelector.offset(5)), ("STEP", .name("STEP")), ("-1", .name("-1")), ("07", .offset(7))])
    func selectorParsing(_ text: String, _ expected: LineSelector) {
        #expect(LineSelector(parsing: text) == expected)
    }

    @Test(arguments: [
        (Duration.zero, UInt32(0)), (.microseconds(1), 1), (.nanoseconds(1), 1), (.nanoseconds(1_001), 2),
        (.milliseconds(5), 5_000), (.seconds(-1), 0), (.seconds(5_000), UInt32.max),
    ])
    func debounceRoundsUpToWholeMicroseconds(_ d: Duration, _ us: UInt32) {
        #expect(LineSettings.microsecondsRoundedUp(d) == us)
    }

    @Test(arguments: [
        (Duration.zero, Int64(0)), (.nanoseconds(1), 1), (.milliseconds(250), 250_000_000), (.seconds(-3), 0),
        (.seconds(Int64.max), Int64.max),
    ])
    func timeoutsInNanoseconds(_ d: Duration, _ ns: Int64) {
        #expect(LineRequest.nanoseconds(d) == ns)
    }

    @Test func outputSettingsBecomeTheShimConfig() {
        let c = LineSettings.output(initial: .active, activeLow: true, drive: .openDrain).shimConfig(offset: 9)
        #expect(c.offset == 9)
        #expect(c.direction == ITP_DIRECTION_OUTPUT)
        #expect(c.initial == 1)
        #expect(c.active_low)
        #expect(c.drive == ITP_DRIVE_OPEN_DRAIN)
        #expect(c.edge == ITP_EDGE_NONE)
    }

    @Test func inputSettingsBecomeTheShimConfig() {
        let c = LineSettings.input(bias: .pullUp, edge: .both, debounce: .milliseconds(2), eventClock: .realtime)
            .shimConfig(offset: 2)
        #expect(c.direction == ITP_DIRECTION_INPUT)
        #expect(c.bias == ITP_BIAS_PULL_UP)
        #expect(c.edge == ITP_EDGE_BOTH)
        #expect(c.debounce_us == 2_000)
        #expect(c.event_clock == ITP_CLOCK_REALTIME)
    }

    @Test func edgeEventsCarryKernelNanosecondsAndV2SequenceNumbers() {
        var raw = itp_edge_event()
        raw.offset = 3
        raw.type = ITP_EVENT_FALLING
        raw.timestamp_ns = 12_000_345_678
        raw.global_seqno = 7
        raw.line_seqno = 2
        let v2 = EdgeEvent(raw, api: .v2)
        #expect(v2 == EdgeEvent(offset: 3, kind: .falling, timestampNanoseconds: 12_000_345_678, globalSequence: 7, lineSequence: 2))
        #expect(v2.description == "line 3 falling at 12.000345678 s (#7, line #2)")
        #expect(v2.timestamp == .nanoseconds(12_000_345_678))
        let v1 = EdgeEvent(raw, api: .v1)
        #expect(v1.globalSequence == nil && v1.lineSequence == nil)
        #expect(v1.description == "line 3 falling at 12.000345678 s")
    }

    @Test func lineInfoFromTheShimKeepsNamesAndUnknowns() {
        var raw = itp_line_info()
        raw.offset = 4
        withUnsafeMutableBytes(of: &raw.name) { $0.copyBytes(from: Array("STEP".utf8)) }
        withUnsafeMutableBytes(of: &raw.consumer) { $0.copyBytes(from: Array("itpump".utf8)) }
        raw.used = true
        raw.direction = ITP_DIRECTION_OUTPUT
        raw.bias = ITP_BIAS_UNKNOWN
        raw.edge = ITP_EDGE_UNKNOWN
        let info = LineInfo(raw)
        #expect(info.name == "STEP" && info.consumer == "itpump" && info.isUsed)
        #expect(info.direction == .output)
        #expect(info.bias == nil && info.edge == nil)
        raw.consumer = itp_line_info().consumer
        #expect(LineInfo(raw).consumer == nil)
    }

    @Test func errnoNamesComeFromTheCLibrary() {
        #expect(CCallFailure(call: "x", errno: 16).description == "x: EBUSY (Device or resource busy, errno 16)")
    }
}
