import Testing
@Test func GatewayReplayTestsBuilds() {}
