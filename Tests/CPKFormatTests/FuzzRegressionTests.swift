import CPKCore
import CPKFormat
import XCTest

/// Inputs the fuzzer (Tests/Fuzz) found; each is also in the seed corpus (regression-*).
final class FuzzRegressionTests: XCTestCase {
    /// corpus/manifest/regression-newline-in-scheme-name: an unknown scheme name with a newline
    /// was quoted raw, so the tool printed a two-line error.
    func testAnUnknownSchemeNameWithANewlineGivesAOneLineError() throws {
        var text = String(decoding: referenceManifest().encoded, as: UTF8.self)
        text = text.replacingOccurrences(of: #""sig":{"rsa-pkcs1v15""#, with: #""sig":{"rsa\npss""#)
        XCTAssertThrowsError(try Manifest(encoded: Array(text.utf8))) { error in
            let message = (error as? CPKError)?.message ?? ""
            XCTAssertTrue(message.contains(#"payload.sig: unknown scheme "rsa\npss""#), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
    }
}
