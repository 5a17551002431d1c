import CPKCLI
import CPKKeys
import CPKTestSupport
import XCTest

final class KeyStoreLocationTests: XCTestCase {
    func testAFlagWinsOverTheEnvironment() throws {
        let environment = ["CP_FILE_KEY_SOURCE": "env.json"]
        XCTAssertEqual(try KeyStoreLocation.select(flags: [.http("http://x")], environment: environment), .http("http://x"))
        XCTAssertEqual(try KeyStoreLocation.select(flags: [], environment: environment), .file("env.json"))
        XCTAssertEqual(try KeyStoreLocation.select(flags: [], environment: ["CP_CLOUD_KEY_SOURCE": "http://k"]), .http("http://k"))
    }

    func testAmbiguityAndAbsenceAreUsageErrors() {
        XCTAssertCPKError(.usage, containing: "one key store", try KeyStoreLocation.select(flags: [.file("a"), .twin("b")], environment: [:]))
        XCTAssertCPKError(.usage, containing: "no key store", try KeyStoreLocation.select(flags: [], environment: ["CP_FILE_KEY_SOURCE": ""]))
        XCTAssertCPKError(
            .usage, containing: "both",
            try KeyStoreLocation.select(flags: [], environment: ["CP_FILE_KEY_SOURCE": "a", "CP_CLOUD_KEY_SOURCE": "b"]))
    }
}
