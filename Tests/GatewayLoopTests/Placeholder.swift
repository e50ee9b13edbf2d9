import Testing
@Test func GatewayLoopTestsBuilds() {}
