function __cpk-wrap_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-wrap_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __cpk-wrap_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-wrap_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __cpk-wrap_parse_tokens -S
    set -l unparsed_tokens (__cpk-wrap_tokens -pc)
    switch $unparsed_tokens[1]
    case 'cpk-wrap'
        __cpk-wrap_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'keygen'
            __cpk-wrap_parse_subcommand 0 'bits=' 'o/output=' 'public-out=' 'key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'public'
            __cpk-wrap_parse_subcommand 1 'format=' 'o/output=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'wrap'
            __cpk-wrap_parse_subcommand 1 'to=' 'key-name=' 'padding=' 'format=' 'o/output=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'unwrap'
            __cpk-wrap_parse_subcommand 1 'key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'padding=' 'key-name=' 'o/output=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'show'
            __cpk-wrap_parse_subcommand 1 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'help'
            __cpk-wrap_parse_subcommand -r 1 'version'
        end
    end
end

function __cpk-wrap_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __cpk-wrap_parse_subcommand -S -a positional_count
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

function __cpk-wrap_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __cpk-wrap_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__cpk-wrap_tokens -p)
    if test -z "$(__cpk-wrap_tokens -t)"
        set -l index (count (__cpk-wrap_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'cpk-wrap' -f
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap" -eq 1' -fa 'keygen' -d 'Make an RSA wrapping key pair; the private key is written as PEM (PKCS#8) with mode 0600.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap" -eq 1' -fa 'public' -d 'Print a public key (read from a private key, a public key or a certificate) in another form.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap" -eq 1' -fa 'wrap' -d 'Wrap a symmetric key (from a file or standard input) to an RSA public key.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap" -eq 1' -fa 'unwrap' -d 'Unwrap a wrapped key with the private key; write the raw key to the named output.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap" -eq 1' -fa 'show' -d 'Print what a wrapped-key document records (the wrapped bytes only by size); --json for a script.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" bits' -l 'bits' -d 'Modulus size: 2048, 3072 or 4096.' -rfka '2048 3072 4096'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" o output' -l 'output' -s 'o' -d 'Write the private key to FILE (mode 0600); - is standard output when it is not a terminal.' -rF
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" public-out' -l 'public-out' -d 'Also write the public key (PEM SubjectPublicKeyInfo) to FILE.' -rF
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" key' -l 'key' -d 'Make the private key inside a token instead, as this pkcs11: URI\'s object (sensitive, never extractable); its public key goes to --public-out, else standard output.' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap keygen" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap public" -eq 1' -F
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap public" format' -l 'format' -d 'pem, der, pkcs1, pkcs1-pem, base64 or fingerprint.' -rfka 'pem der pkcs1 pkcs1-pem base64 fingerprint'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap public" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap public" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap public" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap public" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap public" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap public" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap wrap" -eq 1' -F
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" to' -l 'to' -d 'The public key or certificate to wrap to, in any form; - is standard input.' -rF
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" key-name' -l 'key-name' -d 'The key\'s name, recorded in the document (the application id).' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" padding' -l 'padding' -d 'oaep-sha256 or pkcs1v15 (the reference contract\'s).' -rfka 'oaep-sha256 pkcs1v15'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" format' -l 'format' -d 'document (CBOR), raw (the RSA block) or base64.' -rfka 'document raw base64'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap wrap" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap unwrap" -eq 1' -F
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" key' -l 'key' -d 'The private key (PEM or DER, or a pkcs11: URI); - is standard input, /dev/fd/N an open descriptor.' -rF
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" padding' -l 'padding' -d 'Padding of a bare wrapped key (default oaep-sha256; a document records its own).' -rfka 'oaep-sha256 pkcs1v15'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" key-name' -l 'key-name' -d 'Refuse a document whose key name differs.' -rfka ''
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" o output' -l 'output' -s 'o' -d 'Write the raw key to FILE (created 0600); - is standard output when it is not a terminal.' -rF
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap unwrap" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_positional "cpk-wrap show" -eq 1' -F
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap show" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap show" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap show" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap show" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap show" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-wrap' -n '__cpk-wrap_should_offer_completions_for_flags_or_options "cpk-wrap help" version' -l 'version' -d 'Show the version.'
