import Testing
@Test func GatewayCoreTestsBuilds() {}
