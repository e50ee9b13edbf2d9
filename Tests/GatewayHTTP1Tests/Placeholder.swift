import Testing
@Test func GatewayHTTP1TestsBuilds() {}
