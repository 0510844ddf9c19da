import CGPIODShim

extension GPIOChip {
    /// Requests `lines` from the kernel with consumer label `consumer` (shown by `gpioinfo`).
    ///
    /// Outputs drive their initial value from the moment of the request. Throws
    /// ``GPIOError/lineBusy(offset:lineName:chip:consumer:failure:)`` naming the holder if a line is
    /// taken, ``GPIOError/unsupportedFeature(feature:api:chip:failure:)`` for v2-only settings under API v1.
    /// Nothing stays requested when this throws.
    ///
    /// - Parameters:
    ///   - eventBufferSize: how many edge events the kernel queues for the request (API v2; 0 = 64).
    ///     Under API v1 the kernel queues 16 per line.
    public func requestLines(
        _ lines: [LineConfig], consumer: String = GPIOLibrary.defaultConsumer, eventBufferSize: Int = 0
    ) throws(GPIOError) -> LineRequest {
        var offsets: [UInt32] = []
        for config in lines { offsets.append(try offset(of: config.line)) }
        let configs = zip(lines, offsets).map { $0.settings.shimConfig(offset: $1) }
        let handle = try live(.requestLines, call: "itp_request_lines")
        var status = itp_status()
        let request = configs.withUnsafeBufferPointer { buffer in
            itp_request_lines(handle, consumer, buffer.baseAddress, buffer.count, max(eventBufferSize, 0), &status)
        }
        guard let request else {
            throw requestError(CCallFailure(status), offsets: offsets, index: status.index)
        }
        let requested = zip(lines, offsets).map { config, offset in
            var name: String? = nil
            if case .name(let n) = config.line { name = n }
            return RequestedLine(offset: offset, name: name, settings: config.settings)
        }
        return LineRequest(adopting: request, chip: info, lines: requested)
    }

    /// Requests `lines`, runs `body` with the request, and releases the lines whatever happens.
    public func withLines<R>(
        _ lines: [LineConfig], consumer: String = GPIOLibrary.defaultConsumer,
        _ body: (LineRequest) throws -> R
    ) throws -> R {
        let request = try requestLines(lines, consumer: consumer)
        defer { request.close() }
        return try body(request)
    }

    /// Maps a failed request; for EBUSY, asks the kernel which line is held and by whom.
    private func requestError(_ failure: CCallFailure, offsets: [UInt32], index: Int64) -> GPIOError {
        var context = context(.requestLines, offsets: offsets)
        if failure.errno == E.EBUSY {
            var suspects = offsets
            if index >= 0, index < offsets.count { suspects = [offsets[Int(index)]] }
            context.busyLine = suspects.lazy.compactMap { try? self.lineInfo(.offset($0)) }.first(where: \.isUsed)
        } else if index >= 0, index < offsets.count, !offsets.contains(where: { $0 >= info.lineCount }) {
            context.offsets = [offsets[Int(index)]] + offsets.filter { $0 != offsets[Int(index)] }
        }
        return GPIOError(failure, context: context)
    }
}
