import Foundation

/// Shows a long run's progress: a bar redrawn in place on a terminal, plain lines otherwise (logs, pipes).
struct ProgressReporter {
    private let isTerminal = isatty(STDOUT_FILENO) != 0
    private let start = Date()

    func report(step: Int, steps: Int, objective: Double) {
        report(step: step, steps: steps, detail: String(format: "objective %.4g", objective))
    }

    /// `detail` is what the run measures at this step.
    func report(step: Int, steps: Int, detail: String) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(step) / elapsed : 0
        let status = String(format: "step %d/%d  %.2f steps/s  ", step, steps, rate) + detail
        if isTerminal {
            let width = 30, filled = width * step / max(steps, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            print("\r\(bar) \(status)", terminator: step == steps ? "\n" : "")
        } else {
            print(status)
        }
        // Unbuffered progress in logs and pipes too. fflush(nil) flushes every stream: naming stdout is not
        // concurrency-safe in Swift 6.
        fflush(nil)
    }
}
