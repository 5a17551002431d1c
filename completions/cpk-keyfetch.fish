function __cpk-keyfetch_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-keyfetch_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __cpk-keyfetch_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-keyfetch_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __cpk-keyfetch_parse_tokens -S
    set -l unparsed_tokens (__cpk-keyfetch_tokens -pc)
    switch $unparsed_tokens[1]
    case 'cpk-keyfetch'
        __cpk-keyfetch_parse_subcommand 0 'key-name=' 'to=' 'file-store=' 'url=' 'timeout=' 'ca-file=' 'inline=' 'twin=' 'padding=' 'format=' 'o/output=' 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'fetch'
            __cpk-keyfetch_parse_subcommand 0 'key-name=' 'to=' 'file-store=' 'url=' 'timeout=' 'ca-file=' 'inline=' 'twin=' 'padding=' 'format=' 'o/output=' 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'provision'
            __cpk-keyfetch_parse_subcommand 0 'key-name=' 'file-store=' 'url=' 'timeout=' 'ca-file=' 'force' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'distribute'
            __cpk-keyfetch_parse_subcommand -r 1 'file-store=' 'key-name=+' 'policy=' 'padding=' 'device-ca=+' 'allow-list=' 'tpm-registry=' 'ek-ca=+' 'nonce=' 'insecure-any-device' 'key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'passphrase-file=' 'passphrase-env=' 'cert=' 'scheme=' 'valid-for=' 'generation=' 'output-dir=' 'o/output=' 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'enroll'
            __cpk-keyfetch_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'challenge'
                __cpk-keyfetch_parse_subcommand 1 'ek-ca=+' 'registry=' 'o/output=' 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
            case 'finish'
                __cpk-keyfetch_parse_subcommand 1 'registry=' 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
            case 'list'
                __cpk-keyfetch_parse_subcommand 0 'registry=' 'json' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
            end
        case 'keyprovider'
            __cpk-keyfetch_parse_subcommand 0 'file-store=' 'provider=' 'listen=' 'tls-cert=' 'tls-key=' 'insecure-listen-any' 'allow-sample-key' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'help'
            __cpk-keyfetch_parse_subcommand -r 1 'version'
        end
    end
end

function __cpk-keyfetch_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __cpk-keyfetch_parse_subcommand -S -a positional_count
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

function __cpk-keyfetch_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __cpk-keyfetch_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__cpk-keyfetch_tokens -p)
    if test -z "$(__cpk-keyfetch_tokens -t)"
        set -l index (count (__cpk-keyfetch_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'cpk-keyfetch' -f
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch" -eq 1' -fa 'fetch' -d 'Write the named key, wrapped to a public key, as a wrapped-key document.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch" -eq 1' -fa 'provision' -d 'Create a new random AES-256 key under a name, in a file store or through the ProvisionKey contract.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch" -eq 1' -fa 'distribute' -d 'Release class keys to many devices from their reported documents, signed (DistributeKey).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch" -eq 1' -fa 'enroll' -d 'Enroll devices\' TPM attestation keys: challenge with a credential, record the device when answered.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch" -eq 1' -fa 'keyprovider' -d 'Wrap and unwrap container layer keys for skopeo and ocicrypt (CoCo\'s key provider).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" key-name' -l 'key-name' -d 'The key\'s name: the application id, or a KBS resource URI.' -rfka '(__cpk-keyfetch_custom_completion ---completion fetch -- --key-name (count (__cpk-keyfetch_tokens -pc)) (__cpk-keyfetch_tokens -tC))'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" to' -l 'to' -d 'The public key or certificate to wrap to, in any form; - is standard input.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" file-store' -l 'file-store' -d 'A JSON key store file: key name to base64 key.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" url' -l 'url' -d 'An HTTP key service: the WrapKey endpoint for fetch, the base URL for provision.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" timeout' -l 'timeout' -d 'Seconds to wait for the key service.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" ca-file' -l 'ca-file' -d 'PEM CA certificates to trust for an https key service instead of the system\'s (default: $CPK_KEY_SERVICE_CA).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" inline' -l 'inline' -d 'A base64 wrapped key you already hold (a file; - is standard input).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" twin' -l 'twin' -d 'A device-twin JSON document with confidential_package_keys (- is standard input).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" padding' -l 'padding' -d 'oaep-sha256, or pkcs1v15: what the Package Manager (add-key), the reference key-store contract and device twins use; for --inline and --twin, the padding the bytes were wrapped with.' -rfka 'oaep-sha256 pkcs1v15'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" format' -l 'format' -d 'document (CBOR), raw (the RSA block) or base64.' -rfka 'document raw base64'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" json' -l 'json' -d 'Print what was fetched (key name, padding, the recipient\'s fingerprint; never the key) as JSON; the wrapped key then needs -o.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch fetch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" key-name' -l 'key-name' -d 'The new key\'s name: the application id, or a KBS resource URI.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" file-store' -l 'file-store' -d 'A JSON key store file: key name to base64 key.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" url' -l 'url' -d 'An HTTP key service: the WrapKey endpoint for fetch, the base URL for provision.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" timeout' -l 'timeout' -d 'Seconds to wait for the key service.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" ca-file' -l 'ca-file' -d 'PEM CA certificates to trust for an https key service instead of the system\'s (default: $CPK_KEY_SERVICE_CA).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" force' -l 'force' -d 'Replace a key of the same name in a file store (the old key is lost).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch provision" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" file-store' -l 'file-store' -d 'The file key store (default: $CP_FILE_KEY_SOURCE).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute"' -l 'key-name' -d 'A key every authenticated device gets (repeatable; or --policy).' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" policy' -l 'policy' -d 'A release policy: which devices get which keys (or --key-name).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" padding' -l 'padding' -d 'oaep-sha256 or pkcs1v15 (the reference Package Manager\'s).' -rfka 'oaep-sha256 pkcs1v15'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute"' -l 'device-ca' -d 'The fleet CA of device certificates: a report\'s device certificate chaining to a certificate in FILE and naming its device id authenticates it; repeatable.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" allow-list' -l 'allow-list' -d 'A device allow list: a device id listed with its key\'s SHA-256 authenticates the report.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" tpm-registry' -l 'tpm-registry' -d 'The TPM enrollment registry (cpk-keyfetch enroll): each device\'s attestation key, for a policy requiring attestation.' -rfa '(__cpk-keyfetch_complete_directories)'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute"' -l 'ek-ca' -d 'A trusted TPM manufacturer CA (PEM): each enrolled EK certificate must chain to one; repeatable.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" nonce' -l 'nonce' -d 'The nonce (hex) every device\'s quote must carry: quotes made for another nonce are refused.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" insecure-any-device' -l 'insecure-any-device' -d 'Serve every well-formed report without authenticating it (development only; warns on every run).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" key' -l 'key' -d 'The private key that signs the releases (PEM or DER, or a pkcs11: URI); - is standard input.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" passphrase-file' -l 'passphrase-file' -d 'Read the signing key\'s passphrase from the first line of FILE.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" passphrase-env' -l 'passphrase-env' -d 'Read the signing key\'s passphrase from the environment variable NAME.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" cert' -l 'cert' -d 'The signing key\'s certificate chain (PEM, leaf first), embedded in every document.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" scheme' -l 'scheme' -d 'rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519 (default: the key\'s: rsa-pkcs1v15 for RSA).' -rfka 'rsa-pkcs1v15 rsa-pss ecdsa-p256 ecdsa-p384 ed25519'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" valid-for' -l 'valid-for' -d 'How long each release is valid: seconds, or Nm, Nh, Nd (at most 366d).' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" generation' -l 'generation' -d 'The generation of every release (default: the clock in milliseconds, above the device\'s previous document).' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" output-dir' -l 'output-dir' -d 'Write DEVICE_ID.json per device into this directory.' -rfa '(__cpk-keyfetch_complete_directories)'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" o output' -l 'output' -s 'o' -d 'Write JSON lines to FILE; - is standard output.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" json' -l 'json' -d 'Print a JSON summary on standard output (with --output-dir or -o FILE).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch distribute" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch enroll" -eq 1' -fa 'challenge' -d 'Check an enrollment request and write its challenge.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch enroll" -eq 1' -fa 'finish' -d 'Check a device\'s response and record the device.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_positional "cpk-keyfetch enroll" -eq 1' -fa 'list' -d 'Print the enrolled device ids.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge"' -l 'ek-ca' -d 'A trusted TPM manufacturer CA (PEM); repeatable.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge" registry' -l 'registry' -d 'The enrollment registry directory.' -rfa '(__cpk-keyfetch_complete_directories)'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge" o output' -l 'output' -s 'o' -d 'Write the challenge to FILE; - is standard output.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge" json' -l 'json' -d 'Errors as a JSON document on standard output.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll challenge" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll finish" registry' -l 'registry' -d 'The enrollment registry directory.' -rfa '(__cpk-keyfetch_complete_directories)'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll finish" json' -l 'json' -d 'Print the enrolled device as JSON on standard output.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll finish" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll finish" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll finish" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll finish" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll finish" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll list" registry' -l 'registry' -d 'The enrollment registry directory.' -rfa '(__cpk-keyfetch_complete_directories)'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll list" json' -l 'json' -d 'Print the devices as JSON.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll list" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll list" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll list" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll list" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch enroll list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" file-store' -l 'file-store' -d 'The JSON key store holding the key-encryption keys (default: $CP_FILE_KEY_SOURCE).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" provider' -l 'provider' -d 'The provider\'s name in the ocicrypt configuration (default: attestation-agent, and the former name cpk).' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" listen' -l 'listen' -d 'Serve ocicrypt\'s gRPC key-provider service on this address (e.g. 127.0.0.1:50000).' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" tls-cert' -l 'tls-cert' -d 'With --listen: serve TLS with this PEM certificate chain.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" tls-key' -l 'tls-key' -d 'With --listen: the PEM private key of --tls-cert.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" insecure-listen-any' -l 'insecure-listen-any' -d 'With --listen: allow a non-loopback address without TLS (layer keys in plaintext).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" allow-sample-key' -l 'allow-sample-key' -d 'Read sample=true as the store\'s kbs:///default/test-key/1, with a warning on every use.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch keyprovider" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch help" version' -l 'version' -d 'Show the version.'
# Not a subcommand's name: the words are the default subcommand's (cpk-tools)
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" key-name' -l 'key-name' -d 'The key\'s name: the application id, or a KBS resource URI.' -rfka '(__cpk-keyfetch_custom_completion ---completion fetch -- --key-name (count (__cpk-keyfetch_tokens -pc)) (__cpk-keyfetch_tokens -tC))'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" to' -l 'to' -d 'The public key or certificate to wrap to, in any form; - is standard input.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" file-store' -l 'file-store' -d 'A JSON key store file: key name to base64 key.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" url' -l 'url' -d 'An HTTP key service: the WrapKey endpoint for fetch, the base URL for provision.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" timeout' -l 'timeout' -d 'Seconds to wait for the key service.' -rfka ''
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" ca-file' -l 'ca-file' -d 'PEM CA certificates to trust for an https key service instead of the system\'s (default: $CPK_KEY_SERVICE_CA).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" inline' -l 'inline' -d 'A base64 wrapped key you already hold (a file; - is standard input).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" twin' -l 'twin' -d 'A device-twin JSON document with confidential_package_keys (- is standard input).' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" padding' -l 'padding' -d 'oaep-sha256, or pkcs1v15: what the Package Manager (add-key), the reference key-store contract and device twins use; for --inline and --twin, the padding the bytes were wrapped with.' -rfka 'oaep-sha256 pkcs1v15'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" format' -l 'format' -d 'document (CBOR), raw (the RSA block) or base64.' -rfka 'document raw base64'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" json' -l 'json' -d 'Print what was fetched (key name, padding, the recipient\'s fingerprint; never the key) as JSON; the wrapped key then needs -o.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-keyfetch' -n '__cpk-keyfetch_should_offer_completions_for_flags_or_options "cpk-keyfetch" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
