import ArgumentParser

/// `convlens`: run CNNs on OpenCL devices and see inside them.
public struct ConvLens: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "convlens",
        abstract: "See inside convolutional networks on OpenCL devices, every op checked against a CPU reference.",
        subcommands: [DevicesCommand.self, VerifyCommand.self, InfoCommand.self, ForwardCommand.self, FiltersCommand.self, FeaturesCommand.self,
            WeightsCommand.self, CAMCommand.self, SaliencyCommand.self, ProjectionsCommand.self, InvertCommand.self, EmbedCommand.self, BenchCommand.self,
            TuneCommand.self,
        ]
    )
}

extension ConvLens {
    /// Parses `arguments` (without the program name) and runs every `validate()` on the way, without running the
    /// command: what Fuzz/FuzzArguments drives with arbitrary command lines.
    /// - Throws: the parser's or a command's refusal.
    public static func validateCommandLine(_ arguments: [String]) throws {
        _ = try parseAsRoot(arguments)
    }
}
