import CPKCore
import CPKTestSupport
import XCTest

@testable import CPKCrypto

final class PKCS11URITests: XCTestCase {
    func testTheAttributesThatSelectAKeyAreRead() throws {
        let uri = try PKCS11URI(
            parsing: "pkcs11:token=cpk;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=1a2b;object=signer;id=%01%ab;type=private")
        XCTAssertEqual(uri.token, "cpk")
        XCTAssertEqual(uri.manufacturer, "SoftHSM project")
        XCTAssertEqual(uri.model, "SoftHSM v2")
        XCTAssertEqual(uri.serial, "1a2b")
        XCTAssertEqual(uri.object, "signer")
        XCTAssertEqual(uri.id, [0x01, 0xAB])
        XCTAssertEqual(uri.type, "private")
        XCTAssertNil(uri.modulePath)
        XCTAssertNil(uri.pinSource)
    }

    func testTheQueryNamesTheModuleAndThePINFile() throws {
        let uri = try PKCS11URI(
            parsing: "pkcs11:token=cpk;object=signer;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin")
        XCTAssertEqual(uri.modulePath, "/usr/lib/softhsm/libsofthsm2.so")
        XCTAssertEqual(uri.pinSource, "/run/pin")
        XCTAssertEqual(try PKCS11URI(parsing: "pkcs11:object=k?pin-source=/run/my%20pin").pinSource, "/run/my pin")
    }

    func testPercentDecodingGivesBytesAndTextAsWritten() throws {
        XCTAssertEqual(try PKCS11URI(parsing: "pkcs11:object=a%3Bb%26c%3f").object, "a;b&c?", "separators encoded")
        XCTAssertEqual(try PKCS11URI(parsing: "pkcs11:object=caf%C3%A9").object, "café")
        XCTAssertEqual(try PKCS11URI(parsing: "PKCS11:token=cpk").token, "cpk", "the scheme is case-insensitive")
        XCTAssertEqual(try PKCS11URI(parsing: "pkcs11:id=%00%FF").id, [0x00, 0xFF])
    }

    func testTheCanonicalFormRoundTrips() throws {
        let text = "pkcs11:token=my%20token;object=a%3Bb;id=%01%02;type=private"
        let uri = try PKCS11URI(parsing: text + "?module-path=/m.so&pin-source=file:/p")
        XCTAssertEqual(uri.description, text, "the query is not part of what selects the key")
        XCTAssertEqual(try PKCS11URI(parsing: uri.description), { var u = uri; u.modulePath = nil; u.pinSource = nil; return u }())
        XCTAssertEqual(try PKCS11URI(parsing: uri.recorded), uri, "a configuration keeps the query")
    }

    func testBadURIsAreRefusedInOneLine() {
        let cases: [(String, String)] = [
            ("token=cpk", "does not start with"),
            ("pkcs11:", "names neither a token nor an object"),
            ("pkcs11:token=cpk;token=other", "appears twice"),
            ("pkcs11:object=a%2", "bad percent-encoding"),
            ("pkcs11:object=a%zz", "bad percent-encoding"),
            ("pkcs11:object", "is not name=value"),
            ("pkcs11:object=a;;token=b", "empty path attribute"),
            ("pkcs11:object=%FF%FE", "not UTF-8"),
            ("pkcs11:object=a%0Ab", "control character"),
            ("pkcs11:type=secret", "is not one of"),
            ("pkcs11:id=", "is empty"),
            ("pkcs11:object=a;colour=blue", "unknown path attribute \"colour\""),
            ("pkcs11:object=a?colour=blue", "unknown query attribute \"colour\""),
            ("pkcs11:object=a;x-vendor=1", "vendor attribute"),
            ("pkcs11:object=a;slot-id=1", "not supported here"),
            ("pkcs11:object=a?pin-value=1234", "would be on the command line"),
            ("pkcs11:object=a?pin-source=env:PIN", "only a file"),
            ("pkcs11:object=a?pin-source=file:", "names no file"),
        ]
        for (text, message) in cases {
            XCTAssertCPKError(.usage, containing: message, try PKCS11URI(parsing: text))
            XCTAssertEqual((try? PKCS11URI(parsing: text)).map { _ in "parsed" }, nil)
            do {
                _ = try PKCS11URI(parsing: text)
            } catch let error as CPKError {
                XCTAssertEqual(error.reason, .tokenURI, text)
            } catch { XCTFail("\(error)") }
        }
    }

    func testOnlyThePKCS11SchemeIsAURI() {
        XCTAssertTrue(PKCS11URI.isURI("pkcs11:token=cpk"))
        XCTAssertFalse(PKCS11URI.isURI("key.pem"))
        XCTAssertFalse(PKCS11URI.isURI("pkcs11"))
        XCTAssertFalse(PKCS11URI.isURI("./pkcs11:token=cpk"), "a file path stays a file")
    }

    func testTheModuleIsTheOptionsThenTheURIsThenTheEnvironmentsThenSoftHSM() throws {
        let plain = try PKCS11URI(parsing: "pkcs11:token=cpk")
        let named = try PKCS11URI(parsing: "pkcs11:token=cpk?module-path=/uri.so")
        unsetenv(TokenAccess.moduleVariable)
        XCTAssertEqual(TokenAccess().module(for: plain), TokenAccess.defaultModule)
        XCTAssertEqual(TokenAccess(module: "/option.so").module(for: named), "/option.so")
        setenv(TokenAccess.moduleVariable, "/environment.so", 1)
        defer { unsetenv(TokenAccess.moduleVariable) }
        XCTAssertEqual(TokenAccess().module(for: named), "/uri.so")
        XCTAssertEqual(TokenAccess().module(for: plain), "/environment.so")
    }

    func testThePINIsTheFirstLineOfItsFileAndNeverEmpty() throws {
        let directory = try OpenSSLCommand()
        let access = TokenAccess()
        try directory.write("pin", Array("1234\r\nignored\n".utf8))
        XCTAssertEqual(try access.readPIN(.file(directory.path("pin"))), Array("1234".utf8).map { CChar(bitPattern: $0) } + [0])
        try directory.write("empty", Array("\n".utf8))
        XCTAssertCPKError(.usage, containing: "the PIN is empty", try access.readPIN(.file(directory.path("empty"))))
        try directory.write("long", [UInt8](repeating: 0x31, count: 300))
        XCTAssertCPKError(.usage, containing: "not a PIN", try access.readPIN(.file(directory.path("long"))))
        let uri = try PKCS11URI(parsing: "pkcs11:token=cpk?pin-source=file:/run/pin")
        unsetenv(TokenAccess.pinVariable)
        XCTAssertEqual(access.pinSource(for: uri), .file("/run/pin"))
        XCTAssertEqual(TokenAccess(pin: .descriptor(3)).pinSource(for: uri), .descriptor(3), "an option wins")
        XCTAssertNil(access.pinSource(for: try PKCS11URI(parsing: "pkcs11:token=cpk")))
    }

    func testAMissingModuleIsNamedBeforeAnythingIsLoaded() {
        let uri = try! PKCS11URI(parsing: "pkcs11:token=cpk;object=signer")
        XCTAssertCPKError(
            .usage, containing: "/nonexistent/module.so is missing",
            try TokenKeys.signingKey(uri, access: TokenAccess(module: "/nonexistent/module.so", pin: nil)))
    }

    /// Whether a failure is a token's refusal is read off the PKCS#11 return value in OpenSSL's
    /// error queue (a library libp11 registered, ERR_LIB_USER and up), never off the text, and
    /// OpenSSL's own errors with the same reason number do not count.
    func testATokenRefusalIsTypedByItsReturnValue() {
        func code(library: UInt, reason: UInt) -> UInt { library << 23 | reason }  // OpenSSL 3's ERR_PACK
        let (userLibrary, rsaLibrary): (UInt, UInt) = (128, 4)  // ERR_LIB_USER, ERR_LIB_RSA
        let notPermitted = code(library: userLibrary + 3, reason: 0x68)  // CKR_KEY_FUNCTION_NOT_PERMITTED
        XCTAssertEqual(OpenSSLError.failure("cannot sign (rsa-pss)", codes: [notPermitted]).reason, .tokenMechanism)
        XCTAssertEqual(OpenSSLError.failure("cannot sign", codes: [notPermitted]).kind, .io)
        let deviceError = code(library: userLibrary + 3, reason: 0x30)  // CKR_DEVICE_ERROR
        XCTAssertNil(OpenSSLError.failure("cannot sign", codes: [deviceError]).reason)
        XCTAssertNil(OpenSSLError.failure("cannot sign", codes: [code(library: rsaLibrary, reason: 0x68)]).reason)
        XCTAssertNil(OpenSSLError.failure("cannot sign", codes: []).reason)
    }
}
