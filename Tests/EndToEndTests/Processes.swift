import DemandScreenAPI
import DemandScreenTestSupport
import Foundation
import SwiftProtobuf
import Synchronization
import Testing

/// Where the package's built executables and files are.
enum PackagePaths {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `$DEMANDSCREEN_BIN_DIR`, else the folder of the running test bundle, else `.build/debug`.
    static let binaries: URL = {
        if let configured = ProcessInfo.processInfo.environment["DEMANDSCREEN_BIN_DIR"] {
            return URL(fileURLWithPath: configured)
        }
        var candidate = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<3 {
            if FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("demandscreend").path) {
                return candidate
            }
            candidate.deleteLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug")
    }()

    static func example(_ name: String) -> String { root.appendingPathComponent("Examples/\(name)").path }
}

/// A copy of an example record from a new claimant with a new record id, in `directory`: a record
/// id seen before is answered with its stored result, and a claimant's third call in a day is
/// repeated contact, so tests that watch a change use a new first contact each time.
func freshExample(_ name: String, in directory: String) throws -> String {
    var record = try DemandRecord(jsonString: String(contentsOfFile: PackagePaths.example(name), encoding: .utf8))
    record.recordID = "fresh-\(UUID().uuidString)"
    record.claimantID = "claimant-\(record.recordID)"
    let file = directory + "/\(record.recordID).json"
    try record.jsonString().write(toFile: file, atomically: true, encoding: .utf8)
    return file
}

/// A temporary data folder for one test.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "demandscreen-e2e-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// What a finished CLI run printed and how it exited.
struct CommandOutput {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// A process of one of the package's executables, with the data folder in its environment.
func packageProcess(_ executable: String, arguments: [String], dataDirectory: String) -> Process {
    let process = Process()
    process.executableURL = PackagePaths.binaries.appendingPathComponent(executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["DEMANDSCREEN_DATA_DIRECTORY"] = dataDirectory
    process.environment = environment
    return process
}

/// Runs the real `demandscreen` CLI to completion.
func runCLI(_ arguments: [String], dataDirectory: String, stdin: String? = nil) async throws -> CommandOutput {
    try await runToCompletion(packageProcess("demandscreen", arguments: arguments, dataDirectory: dataDirectory), stdin: stdin)
}

/// Runs a system command to completion and returns what it wrote to standard error; throws when
/// it fails, unless `mayFail`.
@discardableResult
func runSystemCommand(_ path: String, _ arguments: [String], mayFail: Bool = false) async throws -> String {
    let output = try await runProgram(path, arguments)
    if output.status != 0 && !mayFail {
        throw SystemCommandFailed(description: "\(path) \(arguments.joined(separator: " ")) failed: \(output.stderr)")
    }
    return output.stderr
}

/// Runs a program to completion and returns how it exited and what it wrote.
func runProgram(_ path: String, _ arguments: [String]) async throws -> CommandOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    return try await runToCompletion(process)
}

/// Runs `process` to completion, off the concurrency pool, with `stdin` as its input (an empty one
/// when nil), and returns how it exited and what it wrote. Its input is written and its two outputs
/// read each on a thread of its own, so that a process that fills one pipe while the test waits on
/// another fails or finishes instead of hanging.
func runToCompletion(_ process: Process, stdin: String? = nil) async throws -> CommandOutput {
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    let (writer, outReader, errReader) = (input.fileHandleForWriting, out.fileHandleForReading, err.fileHandleForReading)
    async let written: Void = offThePool {
        if let stdin { writer.write(Data(stdin.utf8)) }
        try writer.close()
    }
    async let stdout = offThePool { String(decoding: outReader.readDataToEndOfFile(), as: UTF8.self) }
    async let stderr = offThePool { String(decoding: errReader.readDataToEndOfFile(), as: UTF8.self) }
    let (standardOutput, standardError) = try await (stdout, stderr)
    try await written
    try await offThePool { process.waitUntilExit() }
    return CommandOutput(status: process.terminationStatus, stdout: standardOutput, stderr: standardError)
}

/// A system command that exited non-zero, with what it said.
struct SystemCommandFailed: Error, CustomStringConvertible {
    var description: String
}

/// A running `demandscreend`, its log collected as it writes it.
final class DaemonProcess: Sendable {
    let process: Process
    let dataDirectory: String
    private let log = DaemonLog()

    /// Starts the daemon and waits until it logs that it is ready (or exits).
    init(arguments: [String], dataDirectory: String) throws {
        self.dataDirectory = dataDirectory
        let process = packageProcess("demandscreend", arguments: arguments, dataDirectory: dataDirectory)
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        let log = self.log
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            // At end of file the handler would be called again and again: stop it.
            if data.isEmpty {
                handle.readabilityHandler = nil
                log.end()
            } else {
                log.append(String(decoding: data, as: UTF8.self))
            }
        }
        try process.run()
    }

    var output: String { log.text }

    /// The ops port the ready line names (`ops=…:PORT`), once the daemon is ready.
    var opsPort: Int? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("demandscreend is ready") }),
            let range = line.range(of: #"ops=\S*:(\d+)"#, options: .regularExpression)
        else { return nil }
        let match = line[range]
        return Int(match[match.index(after: match.lastIndex(of: ":")!)...])
    }

    /// Waits for the ready line and returns the port it names; nil if the daemon exited first or
    /// `timeout` passed. The log is read once more after the deadline: a test process whose tasks
    /// were all busy elsewhere may wake up past it with the line long written.
    func waitUntilReady(timeout: Duration = .seconds(60)) async throws -> Int? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let port = readyPort { return port }
            if !process.isRunning || ContinuousClock.now >= deadline { return readyPort }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The port the ready line names, once it is written.
    private var readyPort: Int? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("demandscreend is ready") }),
            let range = line.range(of: #"address=\S*:(\d+)"#, options: .regularExpression)
        else { return nil }
        let match = line[range]
        return Int(match[match.index(after: match.lastIndex(of: ":")!)...])
    }

    /// Sends `signal` and, for SIGTERM and SIGINT, waits for the exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            _ = try await waitForExit()
            return -1
        }
        try await waitForTheLogsEnd()
        return process.terminationStatus
    }

    /// Waits for the daemon to exit by itself and returns its status, its log read to the end.
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard !process.isRunning else { return nil }
        try await waitForTheLogsEnd()
        return process.terminationStatus
    }

    /// The last lines of an exited daemon may still be in the pipe: read until its end, or until
    /// nothing more has come for 300 ms (a daemon started at the same time by another test can
    /// hold a copy of the pipe's write end, and with it the end, open).
    private func waitForTheLogsEnd() async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        var quietSince = ContinuousClock.now
        var length = log.text.utf8.count
        while !log.ended && ContinuousClock.now < deadline && ContinuousClock.now - quietSince < .milliseconds(300) {
            try await Task.sleep(for: .milliseconds(20))
            let now = log.text.utf8.count
            if now != length {
                length = now
                quietSince = ContinuousClock.now
            }
        }
    }
}

/// Waits until `condition` holds, and records an issue if it does not within `timeout`.
func waitFor(timeout: Duration = .seconds(20), _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    #expect(await condition(), "timed out after \(timeout)")
}

/// What a daemon has written to standard error so far.
final class DaemonLog: Sendable {
    private let storage = Mutex((text: "", ended: false))
    func append(_ text: String) { storage.withLock { $0.text += text } }
    /// The pipe reached its end: the daemon exited and everything it wrote is in `text`.
    func end() { storage.withLock { $0.ended = true } }
    var text: String { storage.withLock { $0.text } }
    var ended: Bool { storage.withLock { $0.ended } }
}
