function __cpk-verify_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-verify_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __cpk-verify_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-verify_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __cpk-verify_parse_tokens -S
    set -l unparsed_tokens (__cpk-verify_tokens -pc)
    switch $unparsed_tokens[1]
    case 'cpk-verify'
        __cpk-verify_parse_subcommand 1 'ca=+' 'public-key=+' 'untrusted=+' 'certificate-identity=+' 'certificate-identity-regexp=+' 'at=' 'allow-expired' 'cert=' 'integrity-only' 'require=+' 'json' 'wrapped-key=' 'key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'padding=' 'file-store=' 'url=' 'timeout=' 'ca-file=' 'key-name=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __cpk-verify_parse_subcommand -r 1 'version'
        end
    end
end

function __cpk-verify_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __cpk-verify_parse_subcommand -S -a positional_count
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

function __cpk-verify_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __cpk-verify_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__cpk-verify_tokens -p)
    if test -z "$(__cpk-verify_tokens -t)"
        set -l index (count (__cpk-verify_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'cpk-verify' -f
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_positional "cpk-verify" -eq 1' -F
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify"' -l 'ca' -d 'A trust anchor: signer certificates must chain to a certificate in FILE (PEM or DER); repeatable.' -rF
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify"' -l 'public-key' -d 'Pin a signer\'s key: a public key or certificate (PEM or DER) trusted as it is; repeatable.' -rF
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify"' -l 'untrusted' -d 'Intermediate certificates that may complete a chain without being trusted themselves; repeatable.' -rF
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify"' -l 'certificate-identity' -d 'The signer\'s certificate must name exactly this identity (subject, common name, or an e-mail, DNS or URI subject alternative name); repeatable, any may match.' -rfka ''
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify"' -l 'certificate-identity-regexp' -d 'The same, as a regular expression the whole name must match; repeatable.' -rfka ''
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" at' -l 'at' -d 'Check certificates at TIME: RFC 3339, YYYY-MM-DD, or @SECONDS (default: now).' -rfka ''
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" allow-expired' -l 'allow-expired' -d 'Accept certificates whose validity period has ended (it is still reported).'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" cert' -l 'cert' -d 'The signer\'s certificate (and chain) when the package only names it by URL or domain.' -rF
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" integrity-only' -l 'integrity-only' -d 'Check integrity only: exit 0 for an intact package even when no trust input says who signed it.'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify"' -l 'require' -d 'Checks that must run and pass, comma-separated (e.g. payload-signature,manifest); repeatable.' -rfka 'structure payload-tag payload-digest payload-signature payload-certificate payload-trust package-digest package-signature package-certificate package-trust manifest'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" json' -l 'json' -d 'Print one JSON document instead of lines.'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" wrapped-key' -l 'wrapped-key' -d 'A wrapped key from cpk-keyfetch (its document, or a bare block as raw bytes or base64).' -rF
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" key' -l 'key' -d 'The private key (PEM or DER, or a pkcs11: URI) that unwraps --wrapped-key.' -rF
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" padding' -l 'padding' -d 'Padding of a bare wrapped key (a document records its own).' -rfka 'oaep-sha256 pkcs1v15'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" file-store' -l 'file-store' -d 'A JSON key store file: key name to base64 key.' -rF
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" url' -l 'url' -d 'An HTTP key service: the WrapKey endpoint for fetch, the base URL for provision.' -rfka ''
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" timeout' -l 'timeout' -d 'Seconds to wait for the key service.' -rfka ''
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" ca-file' -l 'ca-file' -d 'PEM CA certificates to trust for an https key service instead of the system\'s (default: $CPK_KEY_SERVICE_CA).' -rF
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" key-name' -l 'key-name' -d 'The key\'s name in the store (default: the package\'s key name, its cp-id).' -rfka '(__cpk-verify_custom_completion ---completion -- --key-name (count (__cpk-verify_tokens -pc)) (__cpk-verify_tokens -tC))'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_positional "cpk-verify" -eq 2' -fa 'help' -d 'Show subcommand help information.'
complete -c 'cpk-verify' -n '__cpk-verify_should_offer_completions_for_flags_or_options "cpk-verify help" version' -l 'version' -d 'Show the version.'
