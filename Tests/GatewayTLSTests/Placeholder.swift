import Testing
@Test func GatewayTLSTestsBuilds() {}
