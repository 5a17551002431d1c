function __cpk-sign_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-sign_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __cpk-sign_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-sign_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __cpk-sign_parse_tokens -S
    set -l unparsed_tokens (__cpk-sign_tokens -pc)
    switch $unparsed_tokens[1]
    case 'cpk-sign'
        __cpk-sign_parse_subcommand 0 'key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'passphrase-file=' 'passphrase-env=' 'json' 'payload' 'package' 'replace' 'scheme=' 'cert=' 'embed-public-key' 'cert-url=' 'cert-domain=' 'embed-form=' 'o/output=' 'cpk' 'oci=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'sign'
            __cpk-sign_parse_subcommand 1 'key=' 'pin-file=' 'pin-fd=' 'pkcs11-module=' 'passphrase-file=' 'passphrase-env=' 'json' 'payload' 'package' 'replace' 'scheme=' 'cert=' 'embed-public-key' 'cert-url=' 'cert-domain=' 'embed-form=' 'o/output=' 'cpk' 'oci=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'prepare'
            __cpk-sign_parse_subcommand 1 'public-key=' 'digest-out=' 'format=' 'json' 'payload' 'package' 'replace' 'scheme=' 'cert=' 'embed-public-key' 'cert-url=' 'cert-domain=' 'embed-form=' 'o/output=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'stitch'
            __cpk-sign_parse_subcommand 1 'signature=' 'format=' 'cert=' 'public-key=' 'json' 'o/output=' 'cpk' 'oci=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'digest'
            __cpk-sign_parse_subcommand 1 'format=' 'o/output=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'strip'
            __cpk-sign_parse_subcommand 1 'payload' 'package' 'o/output=' 'cpk' 'oci=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'keygen'
            __cpk-sign_parse_subcommand 0 'scheme=' 'bits=' 'o/output=' 'cert-out=' 'common-name=' 'days=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'help'
            __cpk-sign_parse_subcommand -r 1 'version'
        end
    end
end

function __cpk-sign_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __cpk-sign_parse_subcommand -S -a positional_count
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

function __cpk-sign_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __cpk-sign_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__cpk-sign_tokens -p)
    if test -z "$(__cpk-sign_tokens -t)"
        set -l index (count (__cpk-sign_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'cpk-sign' -f
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign" -eq 1' -fa 'sign' -d 'Sign with a private key (the default subcommand).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign" -eq 1' -fa 'prepare' -d 'Offline signing, step 1: write the package with a pending signature, and the digest to sign.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign" -eq 1' -fa 'stitch' -d 'Offline signing, step 2: check a detached signature and put it in.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign" -eq 1' -fa 'digest' -d 'Print the bytes an offline signer must sign for a pending signature.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign" -eq 1' -fa 'strip' -d 'Remove the payload and/or package signature (both by default), e.g. before re-signing offline.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign" -eq 1' -fa 'keygen' -d 'Make a development signing key and a self-signed code-signing certificate for it.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" key' -l 'key' -d 'The private key (PEM or DER, or a pkcs11: URI); - is standard input.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" passphrase-file' -l 'passphrase-file' -d 'Read the key\'s passphrase from the first line of FILE.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" passphrase-env' -l 'passphrase-env' -d 'Read the key\'s passphrase from the environment variable NAME.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" json' -l 'json' -d 'Print what was signed (schemes, digests, the signer) as JSON on standard output; the package then needs -o or --oci.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" payload' -l 'payload' -d 'Sign the payload digest. Alone, it gives the reference layout, whose manifest no signature covers.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" package' -l 'package' -d 'Sign the package: every stream but the package digest and signature (the manifest among them), in order.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" replace' -l 'replace' -d 'Re-sign: replace the signatures asked for that the input already has (both by default).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" scheme' -l 'scheme' -d 'rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519 (default: the key\'s: rsa-pkcs1v15 for RSA).' -rfka 'rsa-pkcs1v15 rsa-pss ecdsa-p256 ecdsa-p384 ed25519'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" cert' -l 'cert' -d 'Embed this X.509 certificate (PEM or DER; a PEM may carry the chain after the leaf).' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" embed-public-key' -l 'embed-public-key' -d 'Embed the signer\'s public key instead of a certificate.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" cert-url' -l 'cert-url' -d 'Name where the certificate is, by URL.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" cert-domain' -l 'cert-domain' -d 'Name the certificate by the target domain it is issued for.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" embed-form' -l 'embed-form' -d 'The form of an embedded certificate or key: pem or der.' -rfka 'pem der'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign sign" -eq 1' -F
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" cpk' -l 'cpk' -d 'Write a finished .cpk package instead of an envelope (the last step of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" oci' -l 'oci' -d 'Write a finished .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.' -rfa '(__cpk-sign_complete_directories)'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign sign" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" public-key' -l 'public-key' -d 'The signer\'s public key (PEM or DER, or a certificate); not needed with --cert.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" digest-out' -l 'digest-out' -d 'Write the bytes to sign to FILE; - is standard output.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" format' -l 'format' -d 'The encoding of --digest-out: raw, hex or base64.' -rfka 'raw hex base64'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" json' -l 'json' -d 'Print what was signed (schemes, digests, the signer) as JSON on standard output; the package then needs -o FILE.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" payload' -l 'payload' -d 'Sign the payload digest. Alone, it gives the reference layout, whose manifest no signature covers.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" package' -l 'package' -d 'Sign the package: every stream but the package digest and signature (the manifest among them), in order.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" replace' -l 'replace' -d 'Re-sign: replace the signatures asked for that the input already has (both by default).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" scheme' -l 'scheme' -d 'rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519 (default: the key\'s: rsa-pkcs1v15 for RSA).' -rfka 'rsa-pkcs1v15 rsa-pss ecdsa-p256 ecdsa-p384 ed25519'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" cert' -l 'cert' -d 'Embed this X.509 certificate (PEM or DER; a PEM may carry the chain after the leaf).' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" embed-public-key' -l 'embed-public-key' -d 'Embed the signer\'s public key instead of a certificate.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" cert-url' -l 'cert-url' -d 'Name where the certificate is, by URL.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" cert-domain' -l 'cert-domain' -d 'Name the certificate by the target domain it is issued for.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" embed-form' -l 'embed-form' -d 'The form of an embedded certificate or key: pem or der.' -rfka 'pem der'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign prepare" -eq 1' -F
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" o output' -l 'output' -s 'o' -d 'Write the envelope to FILE; - is standard output.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign prepare" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" signature' -l 'signature' -d 'The detached signature; - is standard input.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" format' -l 'format' -d 'The encoding of --signature: raw, hex or base64.' -rfka 'raw hex base64'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" cert' -l 'cert' -d 'The signer\'s certificate, when the package does not embed it.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" public-key' -l 'public-key' -d 'The signer\'s public key, when the package does not embed it.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" json' -l 'json' -d 'Print what was stitched as JSON (the schema of cpk-sign --json); the package then goes to -o FILE or --oci.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign stitch" -eq 1' -F
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" cpk' -l 'cpk' -d 'Write a finished .cpk package instead of an envelope (the last step of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" oci' -l 'oci' -d 'Write a finished .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.' -rfa '(__cpk-sign_complete_directories)'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign stitch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign digest" format' -l 'format' -d 'raw, hex or base64.' -rfka 'raw hex base64'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign digest" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign digest" -eq 1' -F
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign digest" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign digest" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign digest" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign digest" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign digest" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" payload' -l 'payload' -d 'Strip the payload signature.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" package' -l 'package' -d 'Strip the package signature (and digest).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign strip" -eq 1' -F
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" cpk' -l 'cpk' -d 'Write a finished .cpk package instead of an envelope (the last step of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" oci' -l 'oci' -d 'Write a finished .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.' -rfa '(__cpk-sign_complete_directories)'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign strip" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" scheme' -l 'scheme' -d 'rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519.' -rfka 'rsa-pkcs1v15 rsa-pss ecdsa-p256 ecdsa-p384 ed25519'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" bits' -l 'bits' -d 'RSA modulus size: 2048, 3072 or 4096.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" o output' -l 'output' -s 'o' -d 'Write the private key to FILE (mode 0600); - is standard output when it is not a terminal.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" cert-out' -l 'cert-out' -d 'Write the self-signed certificate (PEM) to FILE.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" common-name' -l 'common-name' -d 'The certificate\'s subject common name.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" days' -l 'days' -d 'Days the certificate is valid, from now (1 to 3650).' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign keygen" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign help" version' -l 'version' -d 'Show the version.'
# Not a subcommand's name: the words are the default subcommand's (cpk-tools)
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" key' -l 'key' -d 'The private key (PEM or DER, or a pkcs11: URI); - is standard input.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" pin-file' -l 'pin-file' -d 'A pkcs11: key\'s PIN, the first line of FILE (default: the URI\'s pin-source, else $CPK_PKCS11_PIN).' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" pin-fd' -l 'pin-fd' -d 'A pkcs11: key\'s PIN, read from the inherited file descriptor N.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" pkcs11-module' -l 'pkcs11-module' -d 'The PKCS#11 module for a pkcs11: key (default: the URI\'s module-path, else $CPK_PKCS11_MODULE, else /usr/lib/softhsm/libsofthsm2.so).' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" passphrase-file' -l 'passphrase-file' -d 'Read the key\'s passphrase from the first line of FILE.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" passphrase-env' -l 'passphrase-env' -d 'Read the key\'s passphrase from the environment variable NAME.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" json' -l 'json' -d 'Print what was signed (schemes, digests, the signer) as JSON on standard output; the package then needs -o or --oci.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" payload' -l 'payload' -d 'Sign the payload digest. Alone, it gives the reference layout, whose manifest no signature covers.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" package' -l 'package' -d 'Sign the package: every stream but the package digest and signature (the manifest among them), in order.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" replace' -l 'replace' -d 'Re-sign: replace the signatures asked for that the input already has (both by default).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" scheme' -l 'scheme' -d 'rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519 (default: the key\'s: rsa-pkcs1v15 for RSA).' -rfka 'rsa-pkcs1v15 rsa-pss ecdsa-p256 ecdsa-p384 ed25519'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" cert' -l 'cert' -d 'Embed this X.509 certificate (PEM or DER; a PEM may carry the chain after the leaf).' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" embed-public-key' -l 'embed-public-key' -d 'Embed the signer\'s public key instead of a certificate.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" cert-url' -l 'cert-url' -d 'Name where the certificate is, by URL.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" cert-domain' -l 'cert-domain' -d 'Name the certificate by the target domain it is issued for.' -rfka ''
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" embed-form' -l 'embed-form' -d 'The form of an embedded certificate or key: pem or der.' -rfka 'pem der'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_positional "cpk-sign" -eq 1' -F
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" cpk' -l 'cpk' -d 'Write a finished .cpk package instead of an envelope (the last step of a pipeline).'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" oci' -l 'oci' -d 'Write a finished .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.' -rfa '(__cpk-sign_complete_directories)'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-sign' -n '__cpk-sign_should_offer_completions_for_flags_or_options "cpk-sign" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
