import CPKCore
import CPKCrypto
import CPKManager
import CPKTPM
import XCTest

/// The device key's place in a state's configuration: a PKCS#11 URI or a `tpm:` reference,
/// told apart by their scheme and recorded as read.
final class DeviceKeyReferenceTests: XCTestCase {
    func testBothKindsReadAndRecord() throws {
        let tpm = try DeviceKeyReference(parsing: "tpm:0x81010010?tcti=swtpm:path=/run/s")
        XCTAssertEqual(tpm, .tpm(TPMKeyURI(handle: 0x8101_0010, tcti: "swtpm:path=/run/s")))
        XCTAssertEqual(tpm.recorded, "tpm:0x81010010?tcti=swtpm:path=/run/s")
        let token = try DeviceKeyReference(parsing: "pkcs11:token=cpk;object=device")
        guard case .pkcs11(let uri) = token else { return XCTFail("not a token key: \(token)") }
        XCTAssertEqual(uri.object, "device")
        XCTAssertEqual(try DeviceKeyReference(parsing: token.recorded), token)
        XCTAssertThrowsError(try DeviceKeyReference(parsing: "tpm:0x1234")) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .tpmReference)
        }
        XCTAssertThrowsError(try DeviceKeyReference(parsing: "file:/etc/key.pem"))
    }
}
