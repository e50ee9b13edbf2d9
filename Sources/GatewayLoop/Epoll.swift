/// epoll event bits (from <sys/epoll.h>, which the Glibc module map does not export as constants).
enum Epoll {
    static let input: UInt32 = 0x001
    static let output: UInt32 = 0x004
    static let error: UInt32 = 0x008
    static let hangUp: UInt32 = 0x010
    static let peerHangUp: UInt32 = 0x2000
}
