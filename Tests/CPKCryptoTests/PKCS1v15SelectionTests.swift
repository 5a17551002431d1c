import CPKCore
import CPKCrypto
import CPKTestSupport
import XCTest

/// The constant-time PKCS#1 v1.5 selection on a raw RSA decryption made elsewhere (a TPM's
/// TPM2_RSA_Decrypt with the NULL scheme) gives what the software unwrap gives, for a good
/// block and for a bad one; the raw decryption here is openssl's (padding none).
final class PKCS1v15SelectionTests: XCTestCase {
    func testSelectionOnARawDecryptionMatchesTheSoftwareUnwrap() throws {
        let openssl = try OpenSSLCommand()
        let key = try RSAPrivateKey.generate(bits: 2048)
        try openssl.write("key.pem", try key.pem())
        let secret = Array(repeating: UInt8(0x5A), count: 32)
        let rejection = Array(repeating: UInt8(0x33), count: 32)
        let good = try key.publicKey.wrap(Array(repeating: UInt8(7), count: 32), padding: .pkcs1v15)
        let bad = try key.publicKey.wrap(Array(repeating: UInt8(7), count: 31), padding: .pkcs1v15)  // wrong length
        for (name, wrapped) in [("good", good), ("bad", bad)] {
            try openssl.write("\(name).bin", wrapped)
            try openssl.runChecked(["pkeyutl", "-decrypt", "-inkey", "key.pem", "-pkeyopt", "rsa_padding_mode:none",
                                    "-in", "\(name).bin", "-out", "\(name).raw"])
            let raw = try openssl.read("\(name).raw")
            XCTAssertEqual(raw.count, 256, name)
            let selected = try RSAPrivateKey.selectPKCS1v15(block: raw, wrapped: wrapped, length: 32, rejectionSecret: rejection)
            XCTAssertEqual(selected, try key.unwrapPKCS1v15(wrapped, length: 32, rejectionSecret: rejection), name)
        }
        let raw = try openssl.read("good.raw")
        XCTAssertEqual(try RSAPrivateKey.selectPKCS1v15(block: raw, wrapped: good, length: 32, rejectionSecret: rejection),
                       Array(repeating: UInt8(7), count: 32))
        XCTAssertNotEqual(try RSAPrivateKey.selectPKCS1v15(block: try openssl.read("bad.raw"), wrapped: bad, length: 32,
                                                           rejectionSecret: rejection), Array(repeating: UInt8(7), count: 32))
        // a block that is not as long as the wrapped key, or a short secret: the one unwrap answer
        XCTAssertCPKError(.checkFailed, containing: "cannot unwrap",
                          try RSAPrivateKey.selectPKCS1v15(block: Array(raw.dropFirst()), wrapped: good, length: 32, rejectionSecret: rejection))
        XCTAssertCPKError(.checkFailed, containing: "cannot unwrap",
                          try RSAPrivateKey.selectPKCS1v15(block: raw, wrapped: good, length: 32, rejectionSecret: Array(secret.prefix(16))))
    }
}
