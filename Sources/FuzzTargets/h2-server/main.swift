import FuzzH2Support

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    H2ServerFuzz.fuzz(data, size)
    return 0
}
