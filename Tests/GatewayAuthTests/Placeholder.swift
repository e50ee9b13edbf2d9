import Testing
@Test func GatewayAuthTestsBuilds() {}
