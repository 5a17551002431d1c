import CPKCore
import XCTest

/// An accept/reject corpus in the style of JSONTestSuite (y_ must parse, n_ must be refused,
/// i_ is implementation-defined and pinned to what JSON.swift does), written for JSON.swift's
/// documented rules: RFC 8259, any top-level value, numbers kept as their literal text, no
/// duplicate keys, at most `JSONValue.maximumDepth` levels of nesting, the four JSON whitespace
/// characters only, strict UTF-8, no lone surrogates.
final class JSONCorpusTests: XCTestCase {
    struct Case {
        let name: String
        let bytes: [UInt8]
        init(_ name: String, _ text: String) { (self.name, bytes) = (name, Array(text.utf8)) }
        init(_ name: String, bytes: [UInt8]) { (self.name, self.bytes) = (name, bytes) }
    }

    static let depth = JSONValue.maximumDepth

    static let accepted: [Case] = [
        // structure
        Case("y_object_empty", "{}"),
        Case("y_array_empty", "[]"),
        Case("y_object_simple", #"{"a":1}"#),
        Case("y_object_key_order_kept", #"{"z":1,"a":2,"m":3}"#),
        Case("y_object_nested", #"{"a":{"b":{"c":[1,{"d":null}]}}}"#),
        Case("y_object_empty_key", #"{"":0}"#),
        Case("y_object_same_key_in_different_objects", #"[{"a":1},{"a":2}]"#),
        Case("y_object_same_key_at_different_levels", #"{"a":{"a":{"a":1}}}"#),
        Case("y_array_heterogeneous", #"[null,true,false,0,"",[],{}]"#),
        Case("y_array_of_empty_arrays", "[[],[[]],[[],[]]]"),
        Case("y_structure_depth_at_limit", String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)),
        Case("y_structure_object_depth_at_limit",
             String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)),
        // top-level scalars (RFC 8259 allows any value)
        Case("y_toplevel_null", "null"),
        Case("y_toplevel_true", "true"),
        Case("y_toplevel_false", "false"),
        Case("y_toplevel_number", "42"),
        Case("y_toplevel_string", #""text""#),
        // whitespace: the four JSON characters, anywhere between tokens
        Case("y_whitespace_all_four_around", " \t\r\n[ 1 ,\t2\r,\n3 ]\n\r\t "),
        Case("y_whitespace_around_colon", "{ \"a\" \t:\n 1 }"),
        Case("y_whitespace_in_empty_containers", "[ \n ] "),
        // numbers
        Case("y_number_zero", "0"),
        Case("y_number_minus_zero", "-0"),
        Case("y_number_minus_zero_fraction", "-0.0"),
        Case("y_number_negative", "-123"),
        Case("y_number_fraction", "0.5"),
        Case("y_number_exponent", "1e10"),
        Case("y_number_capital_exponent", "1E10"),
        Case("y_number_exponent_plus", "1e+2"),
        Case("y_number_exponent_minus", "1e-2"),
        Case("y_number_fraction_exponent", "-1.25E-007"),
        Case("y_number_huge_exponent", "1e99999999999999999999"),
        Case("y_number_huge_integer", "123456789012345678901234567890123456789"),
        Case("y_number_many_fraction_digits", "0.10000000000000000000000000000001"),
        Case("y_number_zero_exponent_leading_zeros", "1e007"),
        // strings
        Case("y_string_empty", #""""#),
        Case("y_string_simple_escapes", #""\"\\\/\b\f\n\r\t""#),
        Case("y_string_unicode_escape", #""\u00e9\u4E2D""#),
        Case("y_string_escaped_nul", #""a\u0000b""#),
        Case("y_string_escaped_control", #""\u001f\u0001""#),
        Case("y_string_surrogate_pair", #""\ud83d\ude00""#),
        Case("y_string_surrogate_pair_uppercase_hex", #""\uD834\uDD1E""#),
        Case("y_string_raw_utf8", "\"é中😀\""),
        Case("y_string_raw_del", "\"\u{7F}\""),
        Case("y_string_u2028_raw", "\"\u{2028}\u{2029}\""),
        Case("y_string_escaped_noncharacter", #""\uffff""#),
        Case("y_string_slash_raw", #""a/b""#),
        Case("y_string_with_json_inside", #""{\"a\":[1,2]}""#),
        Case("y_object_key_with_escapes", #"{"a\nb":1,"a\u0062":2}"#),
    ]

    static let rejected: [Case] = [
        // structure
        Case("n_structure_empty_text", ""),
        Case("n_structure_only_whitespace", " \n\t"),
        Case("n_structure_unclosed_array", "[1,2"),
        Case("n_structure_unclosed_object", #"{"a":1"#),
        Case("n_structure_unclosed_empty_array", "["),
        Case("n_structure_unclosed_empty_object", "{"),
        Case("n_structure_extra_closing_bracket", "[1]]"),
        Case("n_structure_extra_closing_brace", "{}}"),
        Case("n_structure_mismatched_close", "[1}"),
        Case("n_structure_mismatched_close_object", #"{"a":1]"#),
        Case("n_structure_lone_close", "]"),
        Case("n_structure_two_values", "[] []"),
        Case("n_structure_trailing_garbage", "1 x"),
        Case("n_structure_trailing_nul", "[1]\u{0}"),
        Case("n_array_trailing_comma", "[1,]"),
        Case("n_array_leading_comma", "[,1]"),
        Case("n_array_double_comma", "[1,,2]"),
        Case("n_array_only_comma", "[,]"),
        Case("n_array_missing_comma", "[1 2]"),
        Case("n_array_colon_instead_of_comma", "[1:2]"),
        Case("n_object_trailing_comma", #"{"a":1,}"#),
        Case("n_object_missing_colon", #"{"a" 1}"#),
        Case("n_object_missing_value", #"{"a":}"#),
        Case("n_object_missing_comma", #"{"a":1 "b":2}"#),
        Case("n_object_comma_instead_of_colon", #"{"a",1}"#),
        Case("n_object_unquoted_key", "{a:1}"),
        Case("n_object_single_quoted_key", "{'a':1}"),
        Case("n_object_number_key", "{1:1}"),
        Case("n_object_only_key", #"{"a"}"#),
        Case("n_object_double_colon", #"{"a"::1}"#),
        Case("n_structure_depth_over_limit", String(repeating: "[", count: depth + 2) + String(repeating: "]", count: depth + 2)),
        Case("n_structure_object_depth_over_limit",
             String(repeating: #"{"a":"#, count: depth + 1) + "1" + String(repeating: "}", count: depth + 1)),
        Case("n_structure_deep_unclosed", String(repeating: "[", count: 100_000)),
        // duplicate keys: the project's rule
        Case("n_object_duplicate_key", #"{"a":1,"a":2}"#),
        Case("n_object_duplicate_key_same_value", #"{"a":1,"a":1}"#),
        Case("n_object_duplicate_key_not_adjacent", #"{"a":1,"b":2,"a":3}"#),
        Case("n_object_duplicate_key_by_escape", #"{"a":1,"\u0061":2}"#),
        Case("n_object_duplicate_key_nested", #"{"x":{"k":1,"k":2}}"#),
        // literals
        Case("n_literal_tru", "tru"),
        Case("n_literal_nul", "nul"),
        Case("n_literal_fals", "[fals]"),
        Case("n_literal_True", "True"),
        Case("n_literal_NULL", "NULL"),
        Case("n_literal_truex", "truex"),
        Case("n_literal_nan", "NaN"),
        Case("n_literal_infinity", "[Infinity]"),
        Case("n_literal_undefined", "undefined"),
        // numbers
        Case("n_number_leading_zero", "01"),
        Case("n_number_negative_leading_zero", "-01"),
        Case("n_number_leading_zeros_fraction", "00.5"),
        Case("n_number_minus_alone", "-"),
        Case("n_number_minus_in_array", "[-]"),
        Case("n_number_trailing_dot", "1."),
        Case("n_number_leading_dot", ".5"),
        Case("n_number_exponent_without_digits", "1e"),
        Case("n_number_exponent_sign_only", "1e+"),
        Case("n_number_fraction_exponent_without_digits", "1.5E-"),
        Case("n_number_dot_before_exponent", "1.e5"),
        Case("n_number_plus_sign", "+1"),
        Case("n_number_hex", "0x1F"),
        Case("n_number_minus_space", "- 1"),
        Case("n_number_double_minus", "--1"),
        Case("n_number_infinity_negative", "-Infinity"),
        Case("n_number_comma_decimal", "[1,5.]"),
        Case("n_number_two_dots", "1.2.3"),
        // strings
        Case("n_string_unclosed", #""abc"#),
        Case("n_string_single_quotes", "'a'"),
        Case("n_string_bad_escape_x", #""\x41""#),
        Case("n_string_bad_escape_a", #""\a""#),
        Case("n_string_escaped_apostrophe", #""\'""#),
        Case("n_string_backslash_at_end", "\"\\"),
        Case("n_string_short_unicode_escape", #""\u12""#),
        Case("n_string_unicode_escape_bad_hex", #""\u12G4""#),
        Case("n_string_unicode_escape_sign", #""\u+123""#),
        Case("n_string_capital_U_escape", #""\U0041""#),
        Case("n_string_lone_high_surrogate", #""\ud800""#),
        Case("n_string_lone_low_surrogate", #""\udc00""#),
        Case("n_string_high_surrogate_then_char", #""\ud800a""#),
        Case("n_string_high_surrogate_then_bmp_escape", #""\ud800\u0041""#),
        Case("n_string_two_high_surrogates", #""\ud800\ud800""#),
        Case("n_string_reversed_surrogates", #""\udc00\ud800""#),
        Case("n_string_raw_nul", "\"a\u{0}b\""),
        Case("n_string_raw_newline", "\"a\nb\""),
        Case("n_string_raw_tab", "\"a\tb\""),
        Case("n_string_raw_control_1f", "\"\u{1F}\""),
        Case("n_string_invalid_utf8_lone_continuation", bytes: [0x22, 0x80, 0x22]),
        Case("n_string_invalid_utf8_ff", bytes: [0x22, 0xFF, 0x22]),
        Case("n_string_invalid_utf8_truncated", bytes: [0x22, 0xE4, 0xB8, 0x22]),
        Case("n_string_invalid_utf8_overlong_slash", bytes: [0x22, 0xC0, 0xAF, 0x22]),
        Case("n_string_invalid_utf8_encoded_surrogate", bytes: [0x22, 0xED, 0xA0, 0x80, 0x22]),
        Case("n_string_invalid_utf8_beyond_unicode", bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]),
        Case("n_string_invalid_utf8_in_key", bytes: Array(#"{""#.utf8) + [0xC3] + Array(#"":1}"#.utf8)),
        // whitespace: only space, tab, line feed and carriage return
        Case("n_whitespace_form_feed", "[1\u{0C}]"),
        Case("n_whitespace_vertical_tab", "\u{0B}1"),
        Case("n_whitespace_nbsp", "[\u{A0}1]"),
        Case("n_whitespace_u2028", "[1\u{2028}]"),
        Case("n_whitespace_ideographic_space", "\u{3000}{}"),
        Case("n_whitespace_zero_width_nbsp_inside", "[\u{FEFF}1]"),
        // bytes outside strings
        Case("n_structure_invalid_utf8_outside_string", bytes: [0x5B, 0xFF, 0x5D]),
        Case("n_structure_comment", "[1 /* c */]"),
        Case("n_structure_line_comment", "[1] // c"),
    ]

    /// Implementation-defined cases, pinned: what JSON.swift does, and why that is acceptable.
    static let implementationDefined: [(Case, accepted: Bool)] = [
        // RFC 8259 §8.1: a parser MAY ignore a byte order mark; the manifest never has one.
        (Case("i_structure_utf8_bom", "\u{FEFF}{}"), false),
        // Numbers are literal text: a huge or tiny value is kept, never rounded or refused.
        (Case("i_number_huge_negative_exponent", "1e-99999999999999999999"), true),
        (Case("i_number_very_long_integer", String(repeating: "9", count: 4096)), true),
        // Escaped noncharacters and private-use scalars are valid scalars.
        (Case("i_string_escaped_private_use", #""\ue000\udbff\udfff""#), true),
        // Keys are compared as Swift Strings, by canonical equivalence: "\u00e9" (é) and
        // "e\u0301" (e + combining acute) are distinct JSON names (RFC 8259 compares code
        // points), yet refused here as duplicates: stricter than RFC 8259, on the safe side.
        (Case("i_object_canonically_equivalent_keys", #"{"\u00e9":1,"e\u0301":2}"#), false),
    ]

    // MARK: - the corpus

    func testTheCorpusHasTheCasesItPromises() {
        XCTAssertGreaterThanOrEqual(Self.accepted.count, 40)
        XCTAssertGreaterThanOrEqual(Self.rejected.count, 60)
        XCTAssertTrue(Self.accepted.allSatisfy { $0.name.hasPrefix("y_") })
        XCTAssertTrue(Self.rejected.allSatisfy { $0.name.hasPrefix("n_") })
        let names = (Self.accepted + Self.rejected + Self.implementationDefined.map(\.0)).map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "case names are unique")
    }

    /// Every y_ case parses, and its compact text parses back to an equal value (key order
    /// included, since object equality is ordered) and is a fixed point of writing.
    func testAcceptedCasesParseAndRoundTrip() {
        for test in Self.accepted {
            do {
                let value = try JSONValue(parsing: test.bytes)
                let text = value.compactText
                let again = try JSONValue(parsing: Array(text.utf8))
                XCTAssertEqual(again, value, test.name)
                XCTAssertEqual(again.compactText, text, test.name)
                XCTAssertEqual(try JSONValue(parsing: Array(value.prettyText.utf8)), value, "\(test.name), pretty")
            } catch {
                XCTFail("\(test.name) was refused: \(error)")
            }
        }
    }

    /// Every n_ case is refused with a syntax error whose offset lies inside the text.
    func testRejectedCasesAreRefused() {
        for test in Self.rejected {
            XCTAssertThrowsError(try JSONValue(parsing: test.bytes), "\(test.name) was accepted") { error in
                guard let error = error as? JSONSyntaxError else {
                    return XCTFail("\(test.name): not a JSONSyntaxError: \(error)")
                }
                XCTAssertTrue((0...test.bytes.count).contains(error.offset), "\(test.name): offset \(error.offset)")
                XCTAssertFalse(error.reason.isEmpty, test.name)
            }
        }
    }

    func testImplementationDefinedCasesArePinned() {
        for (test, accepted) in Self.implementationDefined {
            let value = try? JSONValue(parsing: test.bytes)
            XCTAssertEqual(value != nil, accepted, test.name)
            if let value { XCTAssertEqual(try? JSONValue(parsing: Array(value.compactText.utf8)), value, test.name) }
        }
    }

    // MARK: - exact values

    func testKeyOrderIsKeptAsWritten() throws {
        let value = try JSONValue(parsing: Array(#"{"z":1,"a":2,"m":{"y":true,"b":false}}"#.utf8))
        guard case .object(let members) = value, case .object(let inner)? = value["m"] else { return XCTFail("not objects") }
        XCTAssertEqual(members.map(\.0), ["z", "a", "m"])
        XCTAssertEqual(inner.map(\.0), ["y", "b"])
        XCTAssertEqual(value.compactText, #"{"z":1,"a":2,"m":{"y":true,"b":false}}"#)
        XCTAssertNotEqual(value, try JSONValue(parsing: Array(#"{"a":2,"z":1,"m":{"y":true,"b":false}}"#.utf8)))
    }

    func testNumbersAreKeptAsTheirLiteralText() throws {
        for literal in ["-0", "-0.0", "1E10", "1e+2", "1e007", "1e99999999999999999999", "123456789012345678901234567890123456789",
                        "0.10000000000000000000000000000001", "-1.25E-007"] {
            XCTAssertEqual(try JSONValue(parsing: Array(literal.utf8)), .number(literal))
            XCTAssertEqual(try JSONValue(parsing: Array("[\(literal)]".utf8)).compactText, "[\(literal)]")
        }
        XCTAssertNotEqual(try JSONValue(parsing: Array("1.0".utf8)), try JSONValue(parsing: Array("1".utf8)))
    }

    func testStringsDecodeToTheirScalars() throws {
        XCTAssertEqual(try JSONValue(parsing: Array(#""a\u0000b""#.utf8)), .string("a\u{0}b"))
        XCTAssertEqual(try JSONValue(parsing: Array(#""\"\\\/\b\f\n\r\t""#.utf8)), .string("\"\\/\u{8}\u{C}\n\r\t"))
        XCTAssertEqual(try JSONValue(parsing: Array(#""\uD834\uDD1E""#.utf8)), .string("\u{1D11E}"))
        XCTAssertEqual(try JSONValue(parsing: Array(#""\ue000\udbff\udfff""#.utf8)), .string("\u{E000}\u{10FFFF}"))
        // written back: NUL and other controls as \u00XX, the usual ones by their short escapes, "/" as is
        XCTAssertEqual(JSONValue.string("a\u{0}\u{1F}/\u{8}\u{C}\n\r\t\"\\").compactText, #""a\u0000\u001f/\b\f\n\r\t\"\\""#)
    }

    func testDuplicateKeysAreRefusedWithTheKeyNamed() {
        XCTAssertThrowsError(try JSONValue(parsing: Array(#"{"a":1,"b":2,"a":3}"#.utf8))) { error in
            guard let error = error as? JSONSyntaxError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.reason, #"duplicate JSON key "a""#)
            XCTAssertEqual(error.offset, 16, "just after the second \"a\"")
        }
    }

    func testTheDepthLimitIsExactlyMaximumDepth() {
        func nested(_ n: Int) -> [UInt8] { Array((String(repeating: "[", count: n) + String(repeating: "]", count: n)).utf8) }
        XCTAssertNoThrow(try JSONValue(parsing: nested(Self.depth + 1)))
        XCTAssertThrowsError(try JSONValue(parsing: nested(Self.depth + 2))) { error in
            XCTAssertEqual((error as? JSONSyntaxError)?.reason, "JSON nested too deeply")
        }
    }
}
