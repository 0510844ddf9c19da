extension GPIOChip {
    /// Opens every `/dev/gpiochip*` and returns what the kernel says about it, or why it could not be opened.
    public static func scan() -> [(path: String, result: Result<ChipInfo, GPIOError>)] {
        GPIOLibrary.chipPaths().map { path in
            do throws(GPIOError) {
                let chip = try GPIOChip(path: path)
                defer { chip.close() }
                return (path, .success(chip.info))
            } catch {
                return (path, .failure(error))
            }
        }
    }

    /// `"/dev/gpiochip0 [pinctrl-bcm2711]"` for each chip present (just the path if it cannot be opened):
    /// what ``GPIOError/chipNotFound(chip:available:failure:)`` lists.
    public static func availableChipDescriptions() -> [String] {
        scan().map { path, result in
            switch result {
            case .success(let info): "\(path) [\(info.label)]"
            case .failure(let error): "\(path) (\(error.failure.errnoName))"
            }
        }
    }
}
