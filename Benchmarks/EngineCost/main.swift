import DemandScreenAPI
import Foundation
import ScreeningEngine

// The engine's own CPU time per record, on the records a load sends: each record of the file is
// screened in turn (no history) until ROUNDS screens are done, after as many again to warm up,
// all on this thread's CPU clock. `Scripts/bench-load.sh` prints it next to the daemon's CPU per
// call on the same records.
//
//   EngineCost RECORDS.json|.jsonl      (ROUNDS in the environment, default 5000)

let arguments = CommandLine.arguments
guard arguments.count == 2, let text = try? String(contentsOfFile: arguments[1], encoding: .utf8) else {
    FileHandle.standardError.write(Data("usage: EngineCost RECORDS.json|RECORDS.jsonl (a readable file)\n".utf8))
    exit(2)
}
let records: [DemandRecord]
do {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    records =
        arguments[1].hasSuffix(".jsonl")
        ? try trimmed.split(separator: "\n").map { try DemandRecord(jsonString: String($0)) } : [try DemandRecord(jsonString: trimmed)]
} catch {
    FileHandle.standardError.write(Data("EngineCost: \(arguments[1]): \(error)\n".utf8))
    exit(1)
}
let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 5000
let engine = ScreeningEngine(policy: .builtIn())

/// The CPU time this thread has used so far, in seconds.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func screenAll(_ count: Int) {
    for index in 0..<count { withExtendedLifetime(engine.screen(records[index % records.count])) {} }
}

screenAll(rounds)
let started = threadCPUSeconds()
screenAll(rounds)
let perRecord = (threadCPUSeconds() - started) / Double(rounds) * 1e6
print(String(format: "engine CPU per record: %.0f µs (%d screens of %d record(s))", perRecord, rounds, records.count))
