import CPKCLI
import CPKCore
import CPKFormat
import CPKTestSupport
import XCTest

@testable import CPKManager

/// `cpk-install list`: the table, the JSON and the rule that a damaged record fails the command.
final class ApplicationListingRenderingTests: XCTestCase {
    private func application(_ id: String, name: String, size: UInt64, signer: String? = nil) -> InstalledApplication {
        var description = ApplicationDescription(
            name: name, vendor: "Acme", target: Target(arch: "x86_64", os: "linux"),
            version: Version(major: 1, minor: 2, revision: 3, date: "2026-01-02T03:04:05Z"))
        description.provenance.signer = signer
        return InstalledApplication(
            id: id, description: description, size: size, installedAt: "2026-02-03T04:05:06Z", sha256: [0xab, 0x01])
    }

    func testTheTableAlignsColumnsAndLeavesTheLastUnpadded() {
        let listing = ApplicationListing(applications: [application("a", name: "Alpha", size: 5), application("longer-id", name: "B", size: 123456)])
        XCTAssertEqual(
            ApplicationsFrontend.table(listing),
            """
            ID         NAME   VERSION  SIZE    INSTALLED AT
            a          Alpha  1.2.3    5       2026-02-03T04:05:06Z
            longer-id  B      1.2.3    123456  2026-02-03T04:05:06Z
            """)
    }

    func testTheTableEscapesTerminalControlsSoARowStaysARow() {
        let listing = ApplicationListing(applications: [application("evil", name: "Bad\u{1b}[2J\nName", size: 1)])
        let table = ApplicationsFrontend.table(listing)
        XCTAssertEqual(table.split(separator: "\n").count, 2, table)
        XCTAssertFalse(table.unicodeScalars.contains { $0.value == 0x1b }, table)
        let row = table.split(separator: "\n")[1]
        XCTAssertTrue(row.contains(TerminalText.escaped("Bad\u{1b}[2J\nName")))
        // the header is padded to the escaped width: the columns still line up
        let header = table.split(separator: "\n")[0]
        XCTAssertEqual(header.range(of: "VERSION")?.lowerBound.utf16Offset(in: header), row.range(of: "1.2.3")?.lowerBound.utf16Offset(in: row))
    }

    func testTheJSONHasItsMembersInTheDocumentedOrder() throws {
        let json = ApplicationsFrontend.json(application("a", name: "Alpha", size: 5, signer: "CN=Vendor"))
        XCTAssertEqual(
            json.compactText,
            #"{"id":"a","name":"Alpha","vendor":"Acme","target":{"arch":"x86_64","os":"linux"},"version":"1.2.3","#
                + #""date":"2026-01-02T03:04:05Z","size":5,"installed-at":"2026-02-03T04:05:06Z","sha256":"ab01","#
                + #""signer":"CN=Vendor","manifest-authenticated":false,"rollback-floor":"1.2.3","authenticated-floor":null}"#)
        XCTAssertEqual(ApplicationsFrontend.json(application("a", name: "A", size: 1))["signer"], .null)
    }

    func testADamagedRecordIsListedAndStillFailsTheCommand() throws {
        let damaged = [
            DamagedApplication(id: "b", problem: .invalid("apps/b.json is damaged; remove it")),
            DamagedApplication(id: "c", problem: .io("apps/c.json cannot be read")),
        ]
        let listing = ApplicationListing(applications: [application("a", name: "A", size: 1)], damaged: damaged)
        XCTAssertEqual(
            ApplicationsFrontend.table(listing),
            """
            ID  NAME                 VERSION  SIZE  INSTALLED AT
            a   A                    1.2.3    1     2026-02-03T04:05:06Z
            b   DAMAGED (see below)  -        -     -
            c   DAMAGED (see below)  -        -     -
            """)
        XCTAssertEqual(
            ApplicationsFrontend.document(listing).compactText.suffix(82),
            #"{"id":"b","damaged":"apps/b.json is damaged; remove it"},{"id":"c","damaged":"apps/c.json cannot be read"}]"#.suffix(82))
        let failure = try XCTUnwrap(ApplicationsFrontend.failure(of: listing))
        XCTAssertEqual(failure.kind, .invalidInput, "the first damaged record's own kind")
        XCTAssertEqual(failure.message, "apps/b.json is damaged; remove it (and 1 more: cpk-install check-state)")
        XCTAssertNil(ApplicationsFrontend.failure(of: ApplicationListing(applications: listing.applications)))
    }
}

/// The install, list and status frontends against a simulator in a scratch directory.
final class InstallFrontendTests: XCTestCase {
    var directory = ""
    var state: StateOptions!

    override func setUpWithError() throws {
        directory = makeTemporaryDirectory(self)
        state = try StateOptions.parse(["--state", directory + "/state"])
    }

    private func request(_ input: String, json: Bool) throws -> InstallFrontend.Request {
        InstallFrontend.Request(
            input: input, trust: try TrustOptions.parse([]), acceptUnauthenticatedManifest: false, allowSignerChange: false,
            allowDowngrade: false, json: json, state: state, messages: try MessageOptions.parse(["-q"]))
    }

    func testAWrongInputCreatesNoState() throws {
        var printed: [String] = []
        XCTAssertThrowsError(try InstallFrontend.install(try request(directory + "/missing.cpk", json: false)) { printed.append($0) })
        XCTAssertEqual(access(directory + "/state", F_OK), -1, "the state directory was created")
        XCTAssertEqual(printed, [])
    }

    func testTheStatusDocumentAndItsText() throws {
        _ = try state.openManager()  // a device exists: read-only commands never make one
        var printed: [String] = []
        try StatusFrontend.status(json: true, state: state) { printed.append($0) }
        let document = try JSONValue(parsing: Array(try XCTUnwrap(printed.first).utf8))
        guard case .object(let members) = document else { return XCTFail(printed[0]) }
        XCTAssertEqual(members.map(\.0), ["backend", "contract-version", "operations", "state", "device-key-sha256", "applications"])
        XCTAssertEqual(document["backend"], .string("simulator"))
        XCTAssertEqual(document["applications"], .integer(0))
        XCTAssertEqual(document["state"], .string(directory + "/state"))
        guard case .string(let fingerprint)? = document["device-key-sha256"] else { return XCTFail(printed[0]) }
        XCTAssertEqual(fingerprint.count, 64)
        guard case .array(let operations)? = document["operations"] else { return XCTFail(printed[0]) }
        XCTAssertTrue(operations.contains(.string("export_device_public_key")), printed[0])

        try StatusFrontend.status(json: false, state: state) { printed.append($0) }
        let lines = printed[1].split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines[0], "Backend:            simulator (no TEE)")
        XCTAssertEqual(lines[4], "Device key:         RSA-2048, sha256:\(fingerprint)")
        XCTAssertEqual(lines[5], "Applications:       0")
    }

    func testAnEmptyStateListsAHeaderOrAnEmptyArrayAndChecksConsistent() throws {
        _ = try state.openManager()
        var printed: [String] = []
        try ApplicationsFrontend.list(json: false, state: state) { printed.append($0) }
        try ApplicationsFrontend.list(json: true, state: state) { printed.append($0) }
        XCTAssertEqual(printed, ["ID  NAME  VERSION  SIZE  INSTALLED AT", "[]"])
        try StatusFrontend.checkState(json: true, state: state) { printed.append($0) }
        XCTAssertEqual(try JSONValue(parsing: Array(printed[2].utf8))["consistent"], .bool(true), printed[2])
    }

    func testAPackageThatFailsACheckPrintsItsReportAndInstallsNothing() throws {
        let package = try PackageFixtures.envelope(in: directory, payload: Array("hello".utf8))
        var printed: [String] = []
        XCTAssertThrowsError(try InstallFrontend.install(try request(package, json: true)) { printed.append($0) }) { error in
            // the report carries the failure: no second JSON document, the line and status from runTool
            XCTAssertTrue(error is JSONErrors.AlreadyReported, "\(error)")
        }
        XCTAssertEqual(printed.count, 1)
        let report = try JSONValue(parsing: Array(printed[0].utf8))
        XCTAssertEqual(report["installed"], .bool(false), printed[0])
        XCTAssertEqual(try state.openManager().installedApplications(), [])
    }
}
