import Foundation
import FuzzH2Support
import Testing

/// Replays the fuzz-h2-server corpus (Tests/Fuzz/h2-server/corpus) through the fuzz target's own check, so every
/// seed and every input a fuzzing run found stays a test of `make test`.
@Suite struct H2ServerFuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/h2-server/corpus")

    static var files: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
        return names.sorted().map { corpus.appendingPathComponent($0) }
    }

    @Test func corpusIsThere() {
        #expect(H2ServerFuzzCorpusTests.files.count >= 40)
    }

    @Test func everyCorpusFileHoldsTheInvariants() throws {
        for file in H2ServerFuzzCorpusTests.files {
            let bytes = try [UInt8](Data(contentsOf: file))
            let problems = bytes.withUnsafeBytes { H2ServerFuzz.check($0) }
            #expect(problems.isEmpty, "\(file.lastPathComponent): \(problems)")
        }
    }

    /// The seed builder's inputs hold too, and each is in the corpus as built.
    @Test func everySeedIsInTheCorpusAndHolds() throws {
        for seed in H2Seeds.all {
            let problems = seed.bytes.withUnsafeBytes { H2ServerFuzz.check($0) }
            #expect(problems.isEmpty, "\(seed.name): \(problems)")
            let stored = try? [UInt8](Data(contentsOf: H2ServerFuzzCorpusTests.corpus.appendingPathComponent("seed-" + seed.name)))
            #expect(stored == seed.bytes, "seed-\(seed.name) missing from the corpus or stale")
        }
    }
}
