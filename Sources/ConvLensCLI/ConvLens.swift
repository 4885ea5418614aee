import ArgumentParser

/// `convlens`: run CNNs on OpenCL devices and see inside them.
public struct ConvLens: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "convlens",
        abstract: "See inside convolutional networks on OpenCL devices, every op checked against a CPU reference.",
        subcommands: [DevicesCommand.self, VerifyCommand.self, InfoCommand.self, ForwardCommand.self, FiltersCommand.self, FeaturesCommand.self,
            WeightsCommand.self, CAMCommand.self, SaliencyCommand.self, BenchCommand.self,
            TuneCommand.self,
        ]
    )
}
