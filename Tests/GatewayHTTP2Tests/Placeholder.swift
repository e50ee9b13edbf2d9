import Testing
@Test func GatewayHTTP2TestsBuilds() {}
