import Foundation
import HardeningTestKit
import HardeningTestSupport
import Testing

/// `tools/setup.sh`, the README's first command, against a `python3` that is a system Python
/// (Debian's, PEP 668: `pip install` refused) and one that is not: the first gets Debian's
/// python3-* packages and pip only for opentelemetry-proto, which Debian lacks (into the user's
/// site, never the system's), the second gets pip. Run dry (the commands are
/// printed), with a stand-in `python3` first on `PATH` that lacks every module.
@Suite struct SetupScriptTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    private func setup(pythonIsManaged: Bool) async throws -> String {
        let directory = TemporaryDirectory(prefix: "setup-python")
        defer { directory.remove() }
        let python = """
            #!/usr/bin/env bash
            case "$*" in
                *EXTERNALLY-MANAGED*) exit \(pythonIsManaged ? 0 : 1) ;;
                *"-m pip"*) echo "pip was run: $*" >&2; exit 0 ;;
                *import*) exit 1 ;;
            esac
            exit 0
            """
        try directory.write("python3", python)
        chmod(directory.path + "/python3", 0o755)
        let path = directory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try await ChildProcess.runDetached(["bash", Self.root + "/tools/setup.sh"],
                                                     environment: ["PATH": path, "HARDENING_SETUP_DRY_RUN": "1"])
        #expect(run.status == 0, "\(run.stderr)")
        return String(decoding: run.stdout, as: UTF8.self) + run.stderr
    }

    @Test func aSystemPythonGetsDebiansPackagesAndPipOnlyForWhatDebianLacks() async throws {
        let output = try await setup(pythonIsManaged: true)
        #expect(output.contains("apt-get install -y -qq python3-jsonschema python3-prometheus-client python3-yaml python3-selenium"), "\(output)")
        let pipLines = output.split(separator: "\n").filter { $0.contains("pip") && $0.hasPrefix("would run") }
        #expect(pipLines == ["would run: python3 -m pip install --quiet --user --break-system-packages opentelemetry-proto"], "\(output)")
    }

    @Test func anotherPythonGetsPip() async throws {
        let output = try await setup(pythonIsManaged: false)
        #expect(output.contains("would run: python3 -m pip install --quiet jsonschema prometheus_client PyYAML selenium"), "\(output)")
        #expect(output.contains("would run: python3 -m pip install --quiet opentelemetry-proto"), "\(output)")
        #expect(!output.contains("python3-jsonschema"), "\(output)")
    }
}
