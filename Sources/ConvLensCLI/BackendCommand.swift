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
        try global.checkProfiling()
        switch global.backend {
        case .opencl:
            let backend = try global.openCLBackend()
            try global.withProfiling(backend) { try run(on: backend) }
        case .cpu: try run(on: ReferenceBackend())
        }
    }
}
