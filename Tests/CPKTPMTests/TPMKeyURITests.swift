import CPKAttestation
import CPKCore
import CPKTPM
import CPKTestSupport
import XCTest

/// What can be checked of the TPM device side without a TPM: the `tpm:` references, the PCR
/// selections, and the checks of a public area found at a persistent handle.
final class TPMKeyURITests: XCTestCase {
    func testReferences() throws {
        let full = try TPMKeyURI(parsing: "tpm:0x81010020?tcti=swtpm:path=/run/a b/tpm.sock")
        XCTAssertEqual(full.handle, 0x8101_0020)
        XCTAssertEqual(full.tcti, "swtpm:path=/run/a b/tpm.sock")
        XCTAssertEqual(full.recorded, "tpm:0x81010020?tcti=swtpm:path=/run/a b/tpm.sock")
        XCTAssertEqual(try TPMKeyURI(parsing: full.recorded), full)
        XCTAssertEqual(try TPMKeyURI(parsing: "tpm:").handle, TPMKeyURI.defaultDeviceKeyHandle)
        XCTAssertEqual(try TPMKeyURI(parsing: "tpm:81010011").recorded, "tpm:0x81010011")
        XCTAssertNil(try TPMKeyURI(parsing: "tpm:0x81010010").tcti)
        // a tctildr string keeps its own separators
        XCTAssertEqual(try TPMKeyURI(parsing: "tpm:?tcti=mssim:host=localhost,port=2321").tcti, "mssim:host=localhost,port=2321")
    }

    func testRefusedReferences() {
        for text in ["pkcs11:object=x", "tpm:0x80000001", "tpm:0x01c00002", "tpm:0x81800000", "tpm:zz", "tpm:0x8101001000",
                     "tpm:0x81010010?tcti=", "tpm:0x81010010?pin=1", "tpm:0x81010010?tcti"] {
            assertRefused(try TPMKeyURI(parsing: text), text)
        }
    }

    func testOnlyKnownTCTIs() throws {
        for tcti in ["device:/dev/tpmrm0", "swtpm:path=/run/s", "mssim:host=localhost,port=2321", "tabrmd", "swtpm"] {
            XCTAssertNoThrow(try TPMKeyURI.checkTCTI(tcti), tcti)
        }
        // a library by path, or a command to run: refused before tctildr sees them
        for tcti in ["cmd:tpm2_send", "/tmp/evil.so:x", "libtss2-tcti-device.so.0:/dev/tpm0", "../x", ""] {
            assertRefused(try TPMKeyURI.checkTCTI(tcti), tcti)
        }
    }

    func testPCRSelections() throws {
        let selection = try TPMPCRSelectionSpec(parsing: "sha256:7,0,1,1")
        XCTAssertEqual(selection.hash, 0x000B)
        XCTAssertEqual(selection.indices, [0, 1, 7])
        XCTAssertEqual(selection.bitmap, [0x83, 0, 0])
        XCTAssertEqual(try TPMPCRSelectionSpec(parsing: "SHA384:23").bitmap, [0, 0, 0x80])
        for text in ["sha1:0", "sha256", "sha256:", "sha256:24", "sha256:-1", "sha256:0,,1", ":0"] {
            assertRefused(try TPMPCRSelectionSpec(parsing: text), text)
        }
    }

    /// The device key's and the AK's templates as tpm2-tools' `tpm2_create` makes them pass;
    /// a key that also signs, or a restricted key, is refused at the handle.
    func testPublicAreaChecks() throws {
        let device = try TPMPublic(parsing: Self.rsaPublic(attributes: 0x0002_0072, scheme: 0x0010))
        XCTAssertNil(TPMDeviceKey.problem(with: device))
        let signs = try TPMPublic(parsing: Self.rsaPublic(attributes: 0x0006_0072, scheme: 0x0010))
        XCTAssertEqual(TPMDeviceKey.problem(with: signs), "it can also sign")
        let unbound = try TPMPublic(parsing: Self.rsaPublic(attributes: 0x0002_0032, scheme: 0x0010))
        XCTAssertNotNil(TPMDeviceKey.problem(with: unbound), "no userWithAuth")
        let ak = try TPMPublic(parsing: Self.rsaPublic(attributes: 0x0005_0072, scheme: 0x0014, hash: 0x000B))
        XCTAssertNil(TPMAttestor.problem(withAttestationKey: ak))
        XCTAssertNotNil(TPMDeviceKey.problem(with: ak))
        XCTAssertNotNil(TPMAttestor.problem(withAttestationKey: device))
    }

    /// A usage error with the reference reason, one line, whatever the text (reasons, not messages).
    func assertRefused<T>(_ body: @autoclosure () throws -> T, _ text: String, line: UInt = #line) {
        XCTAssertCPKError(.usage, containing: "the ", try body(), line: line)
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .tpmReference, text, line: line)
        }
    }

    /// A TPMT_PUBLIC of an RSA-2048 key: type, nameAlg, attributes, empty policy, no symmetric,
    /// the scheme, 2048 bits, exponent 0, a modulus.
    static func rsaPublic(attributes: UInt32, scheme: UInt16, hash: UInt16? = nil) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
        func u32(_ v: UInt32) -> [UInt8] { u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) }
        var bytes = u16(0x0001) + u16(0x000B) + u32(attributes) + u16(0) + u16(0x0010) + u16(scheme)
        if let hash { bytes += u16(hash) }
        bytes += u16(2048) + u32(0) + u16(256) + [0xC5] + [UInt8](repeating: 0x11, count: 254) + [0x01]
        return bytes
    }
}
