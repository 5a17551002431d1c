import CPKCLI
import CPKCore
import CPKKeys
import CPKManager
import CPKPackage
import XCTest

/// The command line adds the flag to a library's typed error; the library never names it.
final class HintsTests: XCTestCase {
    func testAReasonGetsItsFlag() {
        let error = CPKError(.usage, "keys.json already has a key named \"test\"", reason: .keyExists)
        XCTAssertEqual(
            Hints.message(for: error), "keys.json already has a key named \"test\"; use --force to replace it (the old key is lost)")
        XCTAssertEqual(
            Hints.message(for: CPKError(.checkFailed, "Version check FAILED: old", reason: .downgrade)),
            "Version check FAILED: old; give --allow-downgrade to install it anyway")
    }

    func testTheHintNamesTheSubjectAndSurvivesLocationAndContinuation() {
        let error = CPKError(.checkFailed, "no class key for \"app\"; sync it first", reason: .classKeyMissing, subject: "app")
            .appending("; nothing was installed").located(in: "app.cpk")
        XCTAssertEqual(
            Hints.message(for: error),
            "app.cpk: no class key for \"app\"; sync it first; nothing was installed (cpk-install sync --id app ...)")
    }

    func testNoReasonNoHint() {
        XCTAssertEqual(Hints.message(for: .invalid("not a package")), "not a package")
        XCTAssertEqual(Hints.message(for: CPKError(.io, "x", reason: CPKError.Reason(rawValue: "unknown"))), "x")
    }

    func testEveryLibraryReasonWithAFlagHasAHint() throws {
        // The reasons whose library message used to name a flag: each must get one back.
        let reasons: [CPKError.Reason] = [
            .terminalOutput, .keyServiceTimeout, .systemCAsRefused, .wrappingAlgorithmMismatch, .keyExists,
            .keyNameEmpty, .noKeyStore, .unknownKeyProvider, .classKeyMissing, .downgrade, .noStateDirectory,
            .keySourceNeeded, .signerKeyNeeded,
        ]
        for reason in reasons {
            let shown = Hints.message(for: CPKError(.usage, "m", reason: reason, subject: "s"))
            XCTAssertTrue(shown.contains("-"), "\(reason.rawValue): \(shown)")
            XCTAssertNotEqual(shown, "m", reason.rawValue)
        }
    }

    func testAnEmptyKeyNameIsTyped() {
        XCTAssertThrowsError(try KeyName.validate("")) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .keyNameEmpty)
            XCTAssertFalse((error as? CPKError)?.message.contains("--") ?? true)
        }
    }
}

/// cpk-sign's warnings: the library's words, the options that help added here.
final class SignWarningLineTests: XCTestCase {
    func testEachWarningIsOneLineWithItsOptions() {
        XCTAssertEqual(
            SignFrontend.line(.deviceCannotVerify(.ed25519)),
            "cpk-sign: warning: the reference Package Manager verifies only rsa-pkcs1v15 payload signatures; "
                + "a device without the ed25519 verification call cannot install this package")
        XCTAssertTrue(SignFrontend.line(.noSignerCredential).contains("(--cert, --embed-public-key, --cert-url, --cert-domain)"))
        XCTAssertTrue(SignFrontend.line(.manifestNotYetCovered).hasSuffix("run cpk-sign prepare --package"))
        XCTAssertTrue(SignFrontend.line(.manifestNotYetCovered).hasPrefix("cpk-sign: note: "))
    }
}

final class JSONErrorDocumentTests: XCTestCase {
    func testTheErrorDocumentHasAStableShapeAndTheHint() {
        let error = CPKError(.checkFailed, "Version check FAILED: old", reason: .downgrade)
        XCTAssertEqual(
            JSONErrors.document(tool: "cpk-install", error).compactText,
            #"{"cpk-install":1,"error":{"kind":"check-failed","exit":1,"message":"Version check FAILED: old; give --allow-downgrade to install it anyway","reason":"downgrade"}}"#)
    }
}
