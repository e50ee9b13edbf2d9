import GatewayCore
import Testing

@Suite("ByteSize")
struct ByteSizeTests {
    @Test("parses plain bytes and binary units", arguments: [
        ("512", 512),
        ("0", 0),
        ("16KiB", 16 * 1024),
        ("10MiB", 10 * 1024 * 1024),
        ("1GiB", 1 << 30),
        ("1536", 1536),
    ])
    func parses(text: String, bytes: Int) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test("rejects other spellings", arguments: [
        "", "KiB", "16kib", "16KB", "16K", "16 KiB", "1.5MiB", "-1", "+1", "10MiB ", "1TiB", "0x10",
        "1234567890123456", "9999999999GiB",
    ])
    func rejects(text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test("format picks the largest whole unit and round-trips", arguments: [
        (512, "512"),
        (0, "0"),
        (1536, "1536"),
        (2048, "2KiB"),
        (16 * 1024, "16KiB"),
        (10 * 1024 * 1024, "10MiB"),
        (1 << 30, "1GiB"),
        (3 << 30, "3GiB"),
        (1024 * 1024 + 1024, "1025KiB"),
    ])
    func format(bytes: Int, text: String) {
        #expect(ByteSize.format(bytes) == text)
        #expect(ByteSize.parse(ByteSize.format(bytes)) == bytes)
    }
}
