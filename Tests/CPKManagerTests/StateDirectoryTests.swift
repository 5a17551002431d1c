import Glibc
import XCTest

@testable import CPKManager

final class StateDirectoryTests: XCTestCase {
    func testFileNamesAreHexOfTheIdAndBack() {
        XCTAssertEqual(StateDirectory.fileName(for: "test"), "74657374")
        XCTAssertEqual(StateDirectory.id(fromFileName: "74657374.app", suffix: ".app"), "test")
        XCTAssertEqual(StateDirectory.id(fromFileName: StateDirectory.fileName(for: "default/key/k1") + ".key", suffix: ".key"), "default/key/k1")
        XCTAssertNil(StateDirectory.id(fromFileName: "7465737.app", suffix: ".app"))
        XCTAssertNil(StateDirectory.id(fromFileName: "zz.app", suffix: ".app"))
        XCTAssertNil(StateDirectory.id(fromFileName: "74657374.tmp", suffix: ".app"))
    }
}
