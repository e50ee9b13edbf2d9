import Testing
@Test func GatewayConfigTestsBuilds() {}
