function __cpk-install_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-install_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __cpk-install_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-install_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __cpk-install_parse_tokens -S
    set -l unparsed_tokens (__cpk-install_tokens -pc)
    switch $unparsed_tokens[1]
    case 'cpk-install'
        __cpk-install_parse_subcommand 0 'ca=+' 'public-key=+' 'untrusted=+' 'certificate-identity=+' 'certificate-identity-regexp=+' 'at=' 'allow-expired' 'accept-unauthenticated-manifest' 'allow-signer-change' 'allow-downgrade' 'json' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'install'
            __cpk-install_parse_subcommand 1 'ca=+' 'public-key=+' 'untrusted=+' 'certificate-identity=+' 'certificate-identity-regexp=+' 'at=' 'allow-expired' 'accept-unauthenticated-manifest' 'allow-signer-change' 'allow-downgrade' 'json' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'public-key'
            __cpk-install_parse_subcommand 0 'format=' 'o/output=' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'add-key'
            __cpk-install_parse_subcommand 1 'id=' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'sync'
            __cpk-install_parse_subcommand 0 'id=' 'file-store=' 'url=' 'timeout=' 'ca-file=' 'twin=' 'json' 'insecure-unsigned-twin' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'report'
            __cpk-install_parse_subcommand 0 'device-id=' 'device-cert=' 'o/output=' 'nonce=' 'pcrs=' 'ak-handle=' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'list'
            __cpk-install_parse_subcommand 0 'json' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'remove'
            __cpk-install_parse_subcommand 1 'forget-history' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'dev-export-plaintext'
            __cpk-install_parse_subcommand 1 'o/output=' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'trust'
            __cpk-install_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'add'
                __cpk-install_parse_subcommand 1 'id=+' 'fleet' 'device-id=' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
            case 'list'
                __cpk-install_parse_subcommand 0 'json' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
            case 'remove'
                __cpk-install_parse_subcommand 1 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
            end
        case 'attest'
            __cpk-install_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'enroll-request'
                __cpk-install_parse_subcommand 0 'device-id=' 'o/output=' 'tcti=' 'ak-handle=' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
            case 'activate'
                __cpk-install_parse_subcommand 1 'o/output=' 'tcti=' 'ak-handle=' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
            end
        case 'status'
            __cpk-install_parse_subcommand 0 'json' 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'check-state'
            __cpk-install_parse_subcommand 0 'state=' 'device-key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'help'
            __cpk-install_parse_subcommand -r 1 'version'
        end
    end
end

function __cpk-install_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __cpk-install_parse_subcommand -S -a positional_count
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

function __cpk-install_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __cpk-install_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__cpk-install_tokens -p)
    if test -z "$(__cpk-install_tokens -t)"
        set -l index (count (__cpk-install_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'cpk-install' -f
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'install' -d 'Install a package (.cpk or envelope); the default subcommand.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'public-key' -d 'Write the device public key (made on first need), by default as DER RSAPublicKey.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'add-key' -d 'Install a class key wrapped to the device public key (install_application_key).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'sync' -d 'Install class keys wrapped to this device: one from a key store, or every one of a device-twin document.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'report' -d 'Write this device\'s reported-state document (DistributeKey), for its twin.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'list' -d 'List the installed applications: id, name, version, size, installed at.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'remove' -d 'Remove an installed application (its class key stays installed).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'dev-export-plaintext' -d 'SIMULATOR ONLY, a development aid: write an installed application\'s plaintext.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'trust' -d 'Provision trust anchors for signers in the simulator\'s state.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'attest' -d 'Enroll this device\'s TPM with the cloud: the request, then the answer to its challenge.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'status' -d 'Show the Package Manager: contract version, supported calls, state, device key fingerprint.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'check-state' -d 'Check the simulator\'s state: every class key opens, every application decrypts and matches its digest.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install install" -eq 1' -F
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install"' -l 'ca' -d 'A trust anchor: signer certificates must chain to a certificate in FILE (PEM or DER); repeatable.' -rF
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install"' -l 'public-key' -d 'Pin a signer\'s key: a public key or certificate (PEM or DER) trusted as it is; repeatable.' -rF
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install"' -l 'untrusted' -d 'Intermediate certificates that may complete a chain without being trusted themselves; repeatable.' -rF
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install"' -l 'certificate-identity' -d 'The signer\'s certificate must name exactly this identity (subject, common name, or an e-mail, DNS or URI subject alternative name); repeatable, any may match.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install"' -l 'certificate-identity-regexp' -d 'The same, as a regular expression the whole name must match; repeatable.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" at' -l 'at' -d 'Check certificates at TIME: RFC 3339, YYYY-MM-DD, or @SECONDS (default: now).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" allow-expired' -l 'allow-expired' -d 'Accept certificates whose validity period has ended (it is still reported).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" accept-unauthenticated-manifest' -l 'accept-unauthenticated-manifest' -d 'With a trust policy, install even when no trusted signature covers the manifest (the version then does not move the anti-rollback floor).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" allow-signer-change' -l 'allow-signer-change' -d 'With a trust policy, let an upgrade come from another signer than the installed version\'s.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" allow-downgrade' -l 'allow-downgrade' -d 'Install even a version older than the installed one (anti-rollback off).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" json' -l 'json' -d 'Print the report as JSON.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install install" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" format' -l 'format' -d 'pkcs1, pkcs1-pem, der, pem, base64 or fingerprint.' -rfka 'pem der pkcs1 pkcs1-pem base64 fingerprint'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install public-key" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install add-key" -eq 1' -F
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" id' -l 'id' -d 'The application id the key belongs to (a document names its own).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" json' -l 'json' -d 'Print what was installed as JSON (never the key).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install add-key" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" id' -l 'id' -d 'The application id, which is also the key\'s name.' -rfka '(__cpk-install_custom_completion ---completion sync -- --id (count (__cpk-install_tokens -pc)) (__cpk-install_tokens -tC))'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" file-store' -l 'file-store' -d 'A JSON key store file: key name to base64 key.' -rF
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" url' -l 'url' -d 'An HTTP key service: the WrapKey endpoint for fetch, the base URL for provision.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" timeout' -l 'timeout' -d 'Seconds to wait for the key service.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" ca-file' -l 'ca-file' -d 'PEM CA certificates to trust for an https key service instead of the system\'s (default: $CPK_KEY_SERVICE_CA).' -rF
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" twin' -l 'twin' -d 'A device-twin JSON document with confidential_package_keys (- is standard input).' -rF
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" json' -l 'json' -d 'Without --id: print what was applied and refused as JSON.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" insecure-unsigned-twin' -l 'insecure-unsigned-twin' -d 'Also apply an unsigned desired-state document (development only; warned on every use).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install sync" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" device-id' -l 'device-id' -d 'The device\'s name in the fleet: letters, digits, \'.\', \'_\', \'-\' (default: the host name).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" device-cert' -l 'device-cert' -d 'The device certificate (PEM or DER), which must certify the device key.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" nonce' -l 'nonce' -d 'The nonce (hex) the verifier gave: the TPM\'s certify and quote carry it.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" pcrs' -l 'pcrs' -d 'The PCRs to quote, e.g. sha256:0,1,7 (needs --nonce).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" ak-handle' -l 'ak-handle' -d 'The persistent handle of the attestation key (default 0x81010011).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install report" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install remove" -eq 1' -fka '(__cpk-install_custom_completion ---completion remove -- positional@0 (count (__cpk-install_tokens -pc)) (__cpk-install_tokens -tC))'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" forget-history' -l 'forget-history' -d 'Also forget its rollback floor and signer, which otherwise bind the next install of the id.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install remove" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install dev-export-plaintext" -eq 1' -fka '(__cpk-install_custom_completion ---completion dev-export-plaintext -- positional@0 (count (__cpk-install_tokens -pc)) (__cpk-install_tokens -tC))'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install dev-export-plaintext" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install trust" -eq 1' -fa 'add' -d 'Add a CA certificate or a public key, for every application or only those given with --id.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install trust" -eq 1' -fa 'list' -d 'List the provisioned anchors: name, kind, the ids they vouch for, subjects and fingerprints.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install trust" -eq 1' -fa 'remove' -d 'Remove a provisioned anchor by name.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install trust add" -eq 1' -F
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add"' -l 'id' -d 'Trust the anchor only for this application id; repeatable.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" fleet' -l 'fleet' -d 'The anchor is the fleet operator\'s: it signs the key releases this device applies (needs --device-id).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" device-id' -l 'device-id' -d 'With --fleet: this device\'s id in the fleet.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust add" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install trust remove" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install attest" -eq 1' -fa 'enroll-request' -d 'Write the enrollment request: EK certificate, EK and AK public areas.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install attest" -eq 1' -fa 'activate' -d 'Open the cloud\'s challenge in the TPM and write the response.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" device-id' -l 'device-id' -d 'The device\'s name in the fleet: letters, digits, \'.\', \'_\', \'-\' (default: the provisioned id, else the host name).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" tcti' -l 'tcti' -d 'The TPM\'s TCTI, e.g. swtpm:path=SOCKET or device:/dev/tpmrm0.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" ak-handle' -l 'ak-handle' -d 'The persistent handle of the attestation key (default 0x81010011).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest enroll-request" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install attest activate" -eq 1' -F
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" tcti' -l 'tcti' -d 'The TPM\'s TCTI, e.g. swtpm:path=SOCKET or device:/dev/tpmrm0.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" ak-handle' -l 'ak-handle' -d 'The persistent handle of the attestation key (default 0x81010011).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install attest activate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" json' -l 'json' -d 'Print the report as JSON.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install check-state" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install help" version' -l 'version' -d 'Show the version.'
# Not a subcommand's name: the words are the default subcommand's (cpk-tools)
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_positional "cpk-install" -eq 1' -F
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" at' -l 'at' -d 'Check certificates at TIME: RFC 3339, YYYY-MM-DD, or @SECONDS (default: now).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" allow-expired' -l 'allow-expired' -d 'Accept certificates whose validity period has ended (it is still reported).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" accept-unauthenticated-manifest' -l 'accept-unauthenticated-manifest' -d 'With a trust policy, install even when no trusted signature covers the manifest (the version then does not move the anti-rollback floor).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" allow-signer-change' -l 'allow-signer-change' -d 'With a trust policy, let an upgrade come from another signer than the installed version\'s.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" allow-downgrade' -l 'allow-downgrade' -d 'Install even a version older than the installed one (anti-rollback off).'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" json' -l 'json' -d 'Print the report as JSON.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" state' -l 'state' -d 'The simulator\'s state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).' -rfa '(__cpk-install_complete_directories)'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" device-key' -l 'device-key' -d 'Keep the simulator\'s device key pair in a token (a pkcs11: URI\'s RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state\'s configuration.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-install' -n '__cpk-install_should_offer_completions_for_flags_or_options "cpk-install" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
