import Foundation
import Hardening
import HardeningLog
import HardeningTestKit
import HardeningTestSupport
import Testing

@Suite struct GzipTests {
    private func lines(_ count: Int, from: Int = 0) -> [UInt8] {
        Array((from..<(from + count)).map { "{\"n\":\($0),\"text\":\"line number \($0)\"}\n" }.joined().utf8)
    }

    private func inflate(_ data: [UInt8], wholeMembers: Bool = true) throws -> (bytes: [UInt8], damage: [GzipDecompressor.Damage]) {
        try inflate(data, wholeMembers: wholeMembers, chunks: [data.count]).0
    }

    /// Inflates `data` fed in pieces of the sizes `chunks` gives (cycled); also returns the
    /// decompressor (for its counts).
    private func inflate(_ data: [UInt8], wholeMembers: Bool, chunks: [Int]) throws
        -> ((bytes: [UInt8], damage: [GzipDecompressor.Damage]), GzipDecompressor)
    {
        let decompressor = try GzipDecompressor(wholeMembers: wholeMembers)
        var output: [UInt8] = []
        var position = 0
        var chunk = 0
        while position < data.count {
            let end = min(data.count, position + max(1, chunks[chunk % chunks.count]))
            data[position..<end].withUnsafeBytes { decompressor.feed($0, output: { output.append(contentsOf: $0) }) }
            position = end
            chunk += 1
        }
        decompressor.finish(output: { output.append(contentsOf: $0) })
        return ((output, decompressor.damage), decompressor)
    }

    @Test func membersAreReadableByGzipAndMultiMemberStreamsConcatenate() async throws {
        let compressor = try GzipCompressor(level: 6)
        var file: [UInt8] = []
        compressor.compressMember(lines(1000), into: &file)
        compressor.compressMember(lines(1000, from: 1000), into: &file)
        compressor.compressMember([], into: &file)
        let gunzip = try await ChildProcess.runDetached(["gzip", "-dc"], input: Data(file))
        #expect(gunzip.status == 0, "\(gunzip.stderr)")
        let same = Array(gunzip.stdout) == lines(2000)
        #expect(same)
        #expect(try await ChildProcess.runDetached(["gzip", "-t"], input: Data(file)).status == 0)
        let (bytes, damage) = try inflate(file)
        let inflated = bytes == lines(2000)
        #expect(inflated)
        #expect(damage.isEmpty)
    }

    @Test func streamingAppendMakesOneMember() async throws {
        let compressor = try GzipCompressor(level: 1)
        var file: [UInt8] = []
        let input = lines(50_000)
        input.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(raw.count, offset + 7777)
                compressor.append(UnsafeRawBufferPointer(rebasing: raw[offset..<end]), into: &file)
                offset = end
            }
        }
        compressor.finishMember(into: &file)
        let gunzip = try await ChildProcess.runDetached(["gzip", "-dc"], input: Data(file))
        let same = Array(gunzip.stdout) == input
        #expect(same)
    }

    @Test func truncationAtEveryByteNeverCrashesAndKeepsCompleteMembers() throws {
        let compressor = try GzipCompressor()
        var file: [UInt8] = []
        var memberEnds: [Int] = []
        for member in 0..<4 {
            compressor.compressMember(lines(20, from: member * 20), into: &file)
            memberEnds.append(file.count)
        }
        for cut in 0..<file.count {
            let (bytes, damage) = try inflate(Array(file[0..<cut]))
            let complete = memberEnds.filter { $0 <= cut }.count
            let expected = lines(complete * 20)
            let intact = Array(bytes.prefix(expected.count)) == expected
            #expect(intact, "cut \(cut)")
            let atBoundary = cut == 0 || memberEnds.contains(cut)
            #expect(damage.contains { $0.isTruncation } == !atBoundary, "cut \(cut)")
        }
    }

    @Test func flippedBitsAreReportedAndLaterMembersRecovered() throws {
        let compressor = try GzipCompressor()
        var file: [UInt8] = []
        var starts: [Int] = []
        for member in 0..<3 {
            starts.append(file.count)
            compressor.compressMember(lines(100, from: member * 100), into: &file)
        }
        var generator = SplitMix64(seed: 9)
        for _ in 0..<300 {
            var damaged = file
            let position = starts[1] + 10 + Int(generator.next() % UInt64(starts[2] - starts[1] - 18))
            damaged[position] ^= UInt8(1 << (generator.next() % 8))
            let (bytes, damage) = try inflate(damaged)
            let firstIntact = Array(bytes.prefix(lines(100).count)) == lines(100)
            #expect(firstIntact, "the first member is intact")
            if !damage.isEmpty {
                #expect(damage.first?.offset == Int64(starts[1]))
                let lastRecovered = Array(bytes.suffix(lines(100, from: 200).count)) == lines(100, from: 200)
                #expect(lastRecovered, "the last member is recovered")
            }
        }
    }

    @Test func garbageBetweenMembersIsSkipped() throws {
        let compressor = try GzipCompressor()
        var file: [UInt8] = []
        compressor.compressMember(lines(10), into: &file)
        file += Array("garbage that is not gzip\n".utf8)
        compressor.compressMember(lines(10, from: 10), into: &file)
        let (bytes, damage) = try inflate(file)
        let recovered = bytes == lines(20)
        #expect(recovered)
        #expect(damage.count == 1)
    }

    /// Members of a `gzip_stream` log's size, an empty one, and one larger than libdeflate's
    /// output (zlib streams it), with their start offsets.
    private func mixedMembers() throws -> (file: [UInt8], starts: [Int]) {
        let compressor = try GzipCompressor()
        var file: [UInt8] = []
        var starts: [Int] = []
        for (index, count) in [300, 0, 2000, 30_000, 500].enumerated() {
            starts.append(file.count)
            compressor.compressMember(lines(count, from: index * 100_000), into: &file)
        }
        return (file, starts)
    }

    @Test func wholeMembersAndStreamingGiveTheSameBytesAndDamageHoweverTheInputArrives() throws {
        let (file, starts) = try mixedMembers()
        #expect(lines(30_000, from: 300_000).count > (1 << 20) + (64 << 10), "one member is larger than a whole member's output")
        var generator = SplitMix64(seed: 14)
        var inputs: [(name: String, bytes: [UInt8])] = [("intact", file)]
        for _ in 0..<8 {
            var flipped = file
            let position = Int(generator.next() % UInt64(file.count))
            flipped[position] ^= UInt8(1 << (generator.next() % 8))
            inputs.append(("bit flipped at \(position)", flipped))
            let cut = Int(generator.next() % UInt64(file.count))
            inputs.append(("cut at \(cut)", Array(file[0..<cut])))
        }
        var garbage = file
        garbage.insert(contentsOf: Array("not gzip\n".utf8), at: starts[3])
        inputs.append(("garbage before the large member", garbage))
        for (name, input) in inputs {
            let chunks = [1 + Int(generator.next() % 4096), 1 + Int(generator.next() % (256 << 10)), 128 << 10]
            let (streamed, _) = try inflate(input, wholeMembers: false, chunks: chunks)
            let (whole, decompressor) = try inflate(input, wholeMembers: true, chunks: chunks)
            let sameBytes = whole.bytes == streamed.bytes
            #expect(sameBytes, "\(name): the same bytes")
            #expect(whole.damage == streamed.damage, "\(name): the same damage at the same offsets")
            if name == "intact" {
                let expected = [300, 0, 2000, 30_000, 500].enumerated().map { lines($0.element, from: $0.offset * 100_000) }.joined()
                let intact = whole.bytes == Array(expected)
                #expect(intact)
                #expect(decompressor.completedMembers == 5)
                // libdeflate reads the members before the large one; zlib streams that one and,
                // as in a file compressed as one member, what follows it.
                #expect(decompressor.membersInflatedWhole == 3)
            }
        }
    }

    @Test func libdeflateIsLoadedFromItsSharedLibraryAndItsAbsenceMeansZlib() throws {
        let (file, _) = try mixedMembers()
        #expect(WholeMemberInflater() != nil, "libdeflate's shared library (Debian libdeflate0, installed by tools/setup.sh) loads")
        #expect(LibdeflateLibrary(names: ["libdeflate-not-installed.so.0"]) == nil)
        #expect(WholeMemberInflater(library: nil) == nil)
        let (streamed, decompressor) = try inflate(file, wholeMembers: false, chunks: [64 << 10])
        #expect(decompressor.completedMembers == 5)
        #expect(decompressor.membersInflatedWhole == 0)
        #expect(streamed.damage.isEmpty)
    }

    @Test(arguments: [0, 1, 6, 9])
    func membersFromLibdeflateAndZlibAreStandardGzipWithTheSameContent(level: Int) async throws {
        let input = lines(5_000)
        let expected = input + lines(10, from: 5_000)
        var sizes: [Bool: Int] = [:]
        for wholeMembers in [true, false] {
            let compressor = try GzipCompressor(level: level, wholeMembers: wholeMembers)
            #expect(compressor.compressesWithLibdeflate == wholeMembers, "libdeflate (installed by tools/setup.sh) makes whole members")
            var file: [UInt8] = []
            compressor.compressMember(input, into: &file)
            compressor.compressMember(lines(10, from: 5_000), into: &file)
            let gunzip = try await ChildProcess.runDetached(["gzip", "-dc"], input: Data(file))
            #expect(gunzip.status == 0, "\(gunzip.stderr)")
            let same = Array(gunzip.stdout) == expected
            #expect(same, "gzip -dc reads level \(level) (\(wholeMembers ? "libdeflate" : "zlib"))")
            for inflatesWhole in [true, false] {
                let (bytes, damage) = try inflate(file, wholeMembers: inflatesWhole)
                let read = bytes == expected
                #expect(read && damage.isEmpty)
            }
            sizes[wholeMembers] = file.count
        }
        if level >= 6 { #expect(sizes[true]! <= sizes[false]! * 21 / 20, "libdeflate's members are no larger than zlib's, about") }
    }

    /// A bit flipped near the end of a member's data can make zlib read on into the next member
    /// and hit the end of the input: the later members are still read, and the damaged one is
    /// reported as damaged, not as a torn tail.
    @Test func aMemberThatRunsOnIntoTheNextLosesOnlyItself() throws {
        for wholeMembers in [true, false] {
            let compressor = try GzipCompressor(level: 6, wholeMembers: wholeMembers)
            var file: [UInt8] = []
            var ends: [Int] = []
            for member in 0..<4 {
                compressor.compressMember(lines(5, from: member * 5), into: &file)
                ends.append(file.count)
            }
            for position in 0..<file.count {
                var damaged = file
                damaged[position] ^= 0x10
                let member = ends.firstIndex { position < $0 }!
                for inflatesWhole in [true, false] {
                    let (bytes, damage) = try inflate(damaged, wholeMembers: inflatesWhole, chunks: [7, 100, 3]).0
                    let text = String(decoding: bytes, as: UTF8.self)
                    for other in 0..<4 where other != member {
                        let intact = lines(5, from: other * 5)
                        #expect(text.contains(String(decoding: intact, as: UTF8.self)),
                                "byte \(position) of member \(member): member \(other) is read (\(damage))")
                    }
                }
            }
        }
    }

    /// What the differential fuzzer found: a header candidate cut between two reads, and a
    /// member whose header carries a CRC (FHCRC) that does not match (zlib checks it, libdeflate
    /// skips it: such members are left to zlib).
    @Test func libdeflateAndZlibAgreeOnTheInputsTheFuzzerFound() throws {
        let compressor = try GzipCompressor(level: 6, wholeMembers: false)
        var withHeaderCRC: [UInt8] = []
        compressor.compressMember(lines(50), into: &withHeaderCRC)
        var second: [UInt8] = []
        compressor.compressMember(lines(50, from: 50), into: &second)
        // FLG = FHCRC, and two bytes of a header CRC that cannot be right.
        second[3] = 0x02
        second.insert(contentsOf: [0xAB, 0xCD], at: 10)
        withHeaderCRC += second
        for input: [UInt8] in [[0x1F, 0x1F, 0x8B, 0x8B], [0x1F, 0x8B, 0x1F, 0x8B, 0x08], withHeaderCRC] {
            for cut in 0...input.count {
                let (whole, _) = try inflate(input, wholeMembers: true, chunks: [max(1, cut), input.count])
                let (streamed, _) = try inflate(input, wholeMembers: false, chunks: [max(1, cut), input.count])
                let same = whole.bytes == streamed.bytes
                #expect(same && whole.damage == streamed.damage, "cut \(cut) of \(input.count): \(whole.damage) against \(streamed.damage)")
            }
        }
    }
}
