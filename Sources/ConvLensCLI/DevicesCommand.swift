import Foundation
import ArgumentParser
import OpenCLRuntime

/// `convlens devices`: every OpenCL platform and device this machine has.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List OpenCL platforms and devices.")

    func run() throws {
        let devices = try DeviceDiscovery.allDevices()
        for device in devices {
            print("[\(device.index)] \(device.name)")
            let rows: [(String, String)] = [
                ("platform", device.platformName),
                ("vendor", device.vendor),
                ("type", device.type),
                ("compute units", "\(device.computeUnits)"),
                ("global memory", formatBytes(device.globalMemoryBytes)),
                ("max allocation", formatBytes(device.maxAllocationBytes)),
                ("local memory", formatBytes(device.localMemoryBytes)),
                ("max work-group", "\(device.maxWorkGroupSize) (per dimension \(device.maxWorkItemSizes.map(String.init).joined(separator: "×")))"),
                ("OpenCL C", device.openCLCVersion),
                ("driver", device.driverVersion),
            ]
            for (label, value) in rows {
                print("    \(label.padding(toLength: 15, withPad: " ", startingAt: 0)) \(value)")
            }
        }
    }
}

/// Bytes in the largest binary unit that keeps the number at least 1: `15.6 GiB`, `64 KiB`.
func formatBytes(_ bytes: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : String(format: value < 10 ? "%.1f %@" : "%.0f %@", value, units[unit])
}
