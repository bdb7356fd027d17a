import Foundation
import HardeningTestKit
import HardeningTestSupport
import Testing

/// README's library section, built as written by a service that depends on this repository,
/// for each trait combination (`[]`, `OTLP`, `Agent`, the defaults) with every product that
/// combination offers; without the Agent trait, a target that names HardeningAgent stops at its
/// `#error`, which says why. `tools/package-combinations.sh` does the builds (one scratch folder
/// for all, so what a trait does not change is built once); CI runs this suite on its own.
@Suite struct PackageCombinationTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/package-combinations.sh").path

    @Test func everyProductBuildsUnderEveryTraitCombinationAsTheREADMESays() async throws {
        let result = try await ChildProcess.runDetached(["bash", Self.script])
        let printed = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(printed)\n\(result.stderr)")
        for traits in ["[]", #"["OTLP"]"#, #"["Agent"]"#, "[.defaults]"] {
            #expect(printed.contains("traits \(traits): built Service"), "\(printed)")
        }
        #expect(printed.components(separatedBy: "stops at its #error, which says why").count == 3, "[] and OTLP refuse HardeningAgent: \(printed)")
    }
}
