// Runs `LogFuzzer` (the line decoder and the gzip reader) for a bounded time and reports what
// it found. If the process crashes, the input it was working on is in the file given by
// --crash-file, written by a signal handler. Usage: hardening-fuzz [seconds] [seed] [crash-file]
//
// `hardening-fuzz redaction [seconds] [seed]` runs `RedactionFuzzer` instead: credentials mixed
// into random text must all be redacted.
import HardeningTestKit
import HardeningTestSupport

#if canImport(Glibc)
import Glibc
#endif

if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "redaction" {
    let seconds = CommandLine.arguments.count > 2 ? Double(CommandLine.arguments[2]) ?? 60 : 60
    let seed = CommandLine.arguments.count > 3 ? UInt64(CommandLine.arguments[3]) ?? 1 : 1
    var fuzzer = RedactionFuzzer(seed: seed)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
    var findings: [RedactionFuzzer.Finding] = []
    while clock.now < deadline, findings.count < 10 { findings += fuzzer.run(iterations: 200) }
    print("redaction fuzz seed=\(seed) texts=\(fuzzer.executions) credentials=\(fuzzer.inserted) findings=\(findings.count)")
    for finding in findings.prefix(10) { print("  finding: \(finding)\n    input: \(finding.input.debugDescription)") }
    exit(findings.isEmpty ? 0 : 1)
}

let arguments = CommandLine.arguments
let seconds = arguments.count > 1 ? Double(arguments[1]) ?? 60 : 60
let seed = arguments.count > 2 ? UInt64(arguments[2]) ?? 1 : 1
let crashFile = arguments.count > 3 ? arguments[3] : "fuzz-crash.bin"

/// The input under test, visible to the crash handler (a tool may keep process-wide state).
nonisolated(unsafe) var inputForCrash: UnsafeMutableBufferPointer<UInt8>? = nil
nonisolated(unsafe) var inputLength = 0
nonisolated(unsafe) var crashPath: UnsafeMutablePointer<CChar> = strdup(crashFile)!

for signalNumber in [SIGSEGV, SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGABRT] {
    signal(signalNumber) { number in
        let descriptor = open(crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if descriptor >= 0, let buffer = inputForCrash {
            _ = write(descriptor, buffer.baseAddress, inputLength)
            close(descriptor)
        }
        signal(number, SIG_DFL)
        raise(number)
    }
}

var fuzzer = LogFuzzer(seed: seed)
let clock = ContinuousClock()
let start = clock.now
let deadline = start.advanced(by: .milliseconds(Int64(seconds * 1000)))
inputForCrash = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 24)
var findings: [LogFuzzer.Finding] = []
while clock.now < deadline {
    // Small batches; the current input is copied out before each for the crash handler.
    for _ in 0..<64 {
        findings += fuzzer.run(iterations: 1)
        let current = fuzzer.current
        inputLength = min(current.count, inputForCrash!.count)
        current.withUnsafeBufferPointer { source in
            if let from = source.baseAddress, let to = inputForCrash?.baseAddress { memcpy(to, from, inputLength) }
        }
    }
}
let elapsed = start.duration(to: clock.now)
print("fuzz seed=\(seed) executions=\(fuzzer.executions) accepted_lines=\(fuzzer.accepted) gzip_inputs_with_events=\(fuzzer.recovered) findings=\(findings.count) seconds=\(elapsed)")
for (number, finding) in findings.prefix(10).enumerated() {
    let path = "\(crashFile).finding-\(number)"
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if descriptor >= 0 {
        _ = finding.input.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }
    print("  finding: \(finding), input in \(path)")
}
exit(findings.isEmpty ? 0 : 1)
