import CGPIODShim

extension GPIOChip {
    /// The offset of the line the board names `name` (device tree `gpio-line-names`, gpio-sim `name`).
    public func lineOffset(named name: String) throws(GPIOError) -> UInt32 {
        let handle = try live(.findLine, call: "itp_chip_find_line")
        var status = itp_status()
        let offset = itp_chip_find_line(handle, name, &status)
        guard offset >= 0 else {
            var c = context(.findLine)
            c.lineName = name
            throw GPIOError(CCallFailure(status), context: c)
        }
        return UInt32(clamping: offset)
    }

    /// The offset of `line`: looked up if given by name, returned as is if given by offset (the kernel
    /// checks the range when the line is used).
    public func offset(of line: LineSelector) throws(GPIOError) -> UInt32 {
        switch line {
        case .offset(let offset): offset
        case .name(let name): try lineOffset(named: name)
        }
    }

    /// The kernel's current view of one line: name, whether and by whom it is used, direction, bias…
    public func lineInfo(_ line: LineSelector) throws(GPIOError) -> LineInfo {
        let offset = try offset(of: line)
        let handle = try live(.lineInfo, call: "itp_chip_get_line_info")
        var c = itp_line_info()
        var status = itp_status()
        guard itp_chip_get_line_info(handle, offset, &c, &status) == 0 else {
            throw GPIOError(CCallFailure(status), context: context(.lineInfo, offsets: [offset]))
        }
        return LineInfo(c)
    }

    /// Line info for every line of the chip, by offset.
    public func lineInfos() throws(GPIOError) -> [LineInfo] {
        var infos: [LineInfo] = []
        infos.reserveCapacity(Int(info.lineCount))
        for offset in 0..<info.lineCount {
            infos.append(try lineInfo(.offset(offset)))
        }
        return infos
    }
}
