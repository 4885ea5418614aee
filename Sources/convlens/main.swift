import ConvLensCLI

// The commands live in the ConvLensCLI library, so the fuzzers (Fuzz/) can parse every command line without running it.
ConvLens.main()
