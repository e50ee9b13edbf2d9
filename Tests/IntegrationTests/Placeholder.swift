import Testing
@Test func IntegrationTestsBuilds() {}
