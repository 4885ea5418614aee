import ArgumentParser
import OpenCLBackend
import ReferenceBackend
import TensorOps

/// A command whose work is written once, generic over the backend, and run on the one `--backend` selects.
protocol BackendCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func run<B: Backend>(on backend: B) throws
}

extension BackendCommand {
    func run() throws {
        switch global.backend {
        case .opencl: try run(on: global.openCLBackend())
        case .cpu: try run(on: ReferenceBackend())
        }
    }
}
