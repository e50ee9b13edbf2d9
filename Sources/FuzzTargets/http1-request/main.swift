import FuzzSupport

// libFuzzer's entry point; the checks are HTTP1RequestFuzz's (FuzzSupport), which FuzzCorpusTests also runs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzChecks.run(data, size) { (d) throws(InvariantViolation) in try HTTP1RequestFuzz.check(d) }
}
