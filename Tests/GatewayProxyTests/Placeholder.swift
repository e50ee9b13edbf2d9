import Testing
@Test func GatewayProxyTestsBuilds() {}
