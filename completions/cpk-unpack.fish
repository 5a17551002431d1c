function __cpk-unpack_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-unpack_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __cpk-unpack_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-unpack_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __cpk-unpack_parse_tokens -S
    set -l unparsed_tokens (__cpk-unpack_tokens -pc)
    switch $unparsed_tokens[1]
    case 'cpk-unpack'
        __cpk-unpack_parse_subcommand 0 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'info'
            __cpk-unpack_parse_subcommand 1 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'manifest'
            __cpk-unpack_parse_subcommand 1 'pretty' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'list'
            __cpk-unpack_parse_subcommand 1 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'extract'
            __cpk-unpack_parse_subcommand 2 'o/output=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'payload'
            __cpk-unpack_parse_subcommand 1 'wrapped-key=' 'key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'padding=' 'file-store=' 'url=' 'timeout=' 'ca-file=' 'key-name=' 'ca=+' 'public-key=+' 'untrusted=+' 'certificate-identity=+' 'certificate-identity-regexp=+' 'at=' 'allow-expired' 'skip-signatures' 'o/output=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'envelope'
            __cpk-unpack_parse_subcommand 1 'o/output=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'help'
            __cpk-unpack_parse_subcommand -r 1 'version'
        end
    end
end

function __cpk-unpack_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __cpk-unpack_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __cpk-unpack_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __cpk-unpack_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__cpk-unpack_tokens -p)
    if test -z "$(__cpk-unpack_tokens -t)"
        set -l index (count (__cpk-unpack_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'cpk-unpack' -f
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack" -eq 1' -fa 'info' -d 'Print a summary of the package (the default).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack" -eq 1' -fa 'manifest' -d 'Print the manifest JSON (compact, one line; --pretty to indent).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack" -eq 1' -fa 'list' -d 'List the streams: index, role, offset (in a .cpk) and size.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack" -eq 1' -fa 'extract' -d 'Write the bytes of one stream.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack" -eq 1' -fa 'payload' -d 'Write the plaintext payload, after authenticating it (GCM tag and SHA-256).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack" -eq 1' -fa 'envelope' -d 'Turn a .cpk back into an envelope, e.g. to re-sign it.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack info" -eq 1' -F
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack info" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack info" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack info" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack info" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack info" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack manifest" -eq 1' -F
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack manifest" pretty' -l 'pretty' -d 'Indent the JSON for reading.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack manifest" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack manifest" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack manifest" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack manifest" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack manifest" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack list" -eq 1' -F
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack list" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack list" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack list" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack list" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack list" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack extract" -eq 1' -F
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack extract" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack extract" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack extract" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack extract" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack extract" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack extract" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack payload" -eq 1' -F
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" wrapped-key' -l 'wrapped-key' -d 'A wrapped key from cpk-keyfetch (its document, or a bare block as raw bytes or base64).' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" key' -l 'key' -d 'The private key (PEM or DER, or a pkcs11: URI) that unwraps --wrapped-key.' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" padding' -l 'padding' -d 'Padding of a bare wrapped key (a document records its own).' -rfka 'oaep-sha256 pkcs1v15'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" file-store' -l 'file-store' -d 'A JSON key store file: key name to base64 key.' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" url' -l 'url' -d 'An HTTP key service: the WrapKey endpoint for fetch, the base URL for provision.' -rfka ''
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" timeout' -l 'timeout' -d 'Seconds to wait for the key service.' -rfka ''
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" ca-file' -l 'ca-file' -d 'PEM CA certificates to trust for an https key service instead of the system\'s (default: $CPK_KEY_SERVICE_CA).' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" key-name' -l 'key-name' -d 'The key\'s name in the store (default: the package\'s key name, its cp-id).' -rfka '(__cpk-unpack_custom_completion ---completion payload -- --key-name (count (__cpk-unpack_tokens -pc)) (__cpk-unpack_tokens -tC))'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload"' -l 'ca' -d 'A trust anchor: signer certificates must chain to a certificate in FILE (PEM or DER); repeatable.' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload"' -l 'public-key' -d 'Pin a signer\'s key: a public key or certificate (PEM or DER) trusted as it is; repeatable.' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload"' -l 'untrusted' -d 'Intermediate certificates that may complete a chain without being trusted themselves; repeatable.' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload"' -l 'certificate-identity' -d 'The signer\'s certificate must name exactly this identity (subject, common name, or an e-mail, DNS or URI subject alternative name); repeatable, any may match.' -rfka ''
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload"' -l 'certificate-identity-regexp' -d 'The same, as a regular expression the whole name must match; repeatable.' -rfka ''
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" at' -l 'at' -d 'Check certificates at TIME: RFC 3339, YYYY-MM-DD, or @SECONDS (default: now).' -rfka ''
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" allow-expired' -l 'allow-expired' -d 'Accept certificates whose validity period has ended (it is still reported).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" skip-signatures' -l 'skip-signatures' -d 'Debugging: do not check the payload signature (the tag, digests and package signature still are).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack payload" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack envelope" -eq 1' -F
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack envelope" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack envelope" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack envelope" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack envelope" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack envelope" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack envelope" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack help" version' -l 'version' -d 'Show the version.'
# Not a subcommand's name: the words are the default subcommand's (cpk-tools)
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_positional "cpk-unpack" -eq 1' -F
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-unpack' -n '__cpk-unpack_should_offer_completions_for_flags_or_options "cpk-unpack" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
