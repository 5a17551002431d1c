function __cpk-seal_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-seal_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __cpk-seal_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-seal_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __cpk-seal_parse_tokens -S
    set -l unparsed_tokens (__cpk-seal_tokens -pc)
    switch $unparsed_tokens[1]
    case 'cpk-seal'
        __cpk-seal_parse_subcommand 1 'wrapped-key=' 'key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'padding=' 'file-store=' 'url=' 'timeout=' 'ca-file=' 'key-name=' 'o/output=' 'cpk' 'oci=' 'no-key-check' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __cpk-seal_parse_subcommand -r 1 'version'
        end
    end
end

function __cpk-seal_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __cpk-seal_parse_subcommand -S -a positional_count
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

function __cpk-seal_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __cpk-seal_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__cpk-seal_tokens -p)
    if test -z "$(__cpk-seal_tokens -t)"
        set -l index (count (__cpk-seal_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'cpk-seal' -f
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_positional "cpk-seal" -eq 1' -F
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" wrapped-key' -l 'wrapped-key' -d 'A wrapped key from cpk-keyfetch (its document, or a bare block as raw bytes or base64).' -rF
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" key' -l 'key' -d 'The private key (PEM or DER, or a pkcs11: URI) that unwraps --wrapped-key.' -rF
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" padding' -l 'padding' -d 'Padding of a bare wrapped key (a document records its own).' -rfka 'oaep-sha256 pkcs1v15'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" file-store' -l 'file-store' -d 'A JSON key store file: key name to base64 key.' -rF
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" url' -l 'url' -d 'An HTTP key service: the WrapKey endpoint for fetch, the base URL for provision.' -rfka ''
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" timeout' -l 'timeout' -d 'Seconds to wait for the key service.' -rfka ''
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" ca-file' -l 'ca-file' -d 'PEM CA certificates to trust for an https key service instead of the system\'s (default: $CPK_KEY_SERVICE_CA).' -rF
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" key-name' -l 'key-name' -d 'The key\'s name in the store (default: the package\'s key name, its cp-id).' -rfka '(__cpk-seal_custom_completion ---completion -- --key-name (count (__cpk-seal_tokens -pc)) (__cpk-seal_tokens -tC))'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" cpk' -l 'cpk' -d 'Write a finished .cpk package instead of an envelope (the last step of a pipeline).'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" oci' -l 'oci' -d 'Write a finished .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.' -rfa '(__cpk-seal_complete_directories)'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" no-key-check' -l 'no-key-check' -d 'Write no key check stream: the reference\'s seven-stream layout exactly.'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_positional "cpk-seal" -eq 2' -fa 'help' -d 'Show subcommand help information.'
complete -c 'cpk-seal' -n '__cpk-seal_should_offer_completions_for_flags_or_options "cpk-seal help" version' -l 'version' -d 'Show the version.'
