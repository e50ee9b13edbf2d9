import Foundation
import FuzzSupport
import Testing

/// Replays every seed corpus (and every crash input added to one) through the checks its fuzz target runs, so the
/// invariants hold in `make test` without libFuzzer; a violation is a failed test here, not a trap.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let fuzzDirectory = root.appendingPathComponent("Fuzz")
    static let targetsDirectory = root.deletingLastPathComponent().appendingPathComponent("Sources/FuzzTargets")

    static func directories(in url: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }

    @Test func everyTargetHasACheckAndACorpus() {
        let targets = Self.directories(in: Self.targetsDirectory)
        #expect(!targets.isEmpty)
        for name in targets {
            #expect(FuzzChecks.byName[name] != nil, "Sources/FuzzTargets/\(name) has no check in FuzzChecks.byName")
            let corpus = Self.fuzzDirectory.appendingPathComponent(name).appendingPathComponent("corpus")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
            #expect(!files.isEmpty, "Tests/Fuzz/\(name)/corpus is empty")
            let dict = Self.fuzzDirectory.appendingPathComponent(name).appendingPathComponent("\(name).dict")
            #expect(FileManager.default.fileExists(atPath: dict.path), "Tests/Fuzz/\(name)/\(name).dict is missing")
        }
        for name in Self.directories(in: Self.fuzzDirectory) {
            #expect(targets.contains(name), "Tests/Fuzz/\(name) has no target in Sources/FuzzTargets")
        }
    }

    @Test(arguments: FuzzChecks.byName.keys.sorted())
    func corpusHoldsTheInvariants(_ name: String) throws {
        let check = try #require(FuzzChecks.byName[name])
        let corpus = Self.fuzzDirectory.appendingPathComponent(name).appendingPathComponent("corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        #expect(!files.isEmpty)
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: corpus.appendingPathComponent(file)))
            if let violation = FuzzChecks.violation(of: check, on: bytes) {
                Issue.record("\(name)/corpus/\(file): \(violation)")
            }
        }
    }
}
