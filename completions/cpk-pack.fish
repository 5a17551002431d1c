function __cpk-pack_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-pack_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __cpk-pack_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __cpk-pack_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __cpk-pack_parse_tokens -S
    set -l unparsed_tokens (__cpk-pack_tokens -pc)
    switch $unparsed_tokens[1]
    case 'cpk-pack'
        __cpk-pack_parse_subcommand 0 'id=' 'display-name=' 'vendor=' 'arch=' 'os=' 'app-version=' 'date=' 'o/output=' 'cpk' 'oci=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'create'
            __cpk-pack_parse_subcommand 1 'id=' 'display-name=' 'vendor=' 'arch=' 'os=' 'app-version=' 'date=' 'o/output=' 'cpk' 'oci=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'finish'
            __cpk-pack_parse_subcommand 1 'o/output=' 'oci=' 'q/quiet' 'v/verbose' 'progress' 'version' 'h/help'
        case 'help'
            __cpk-pack_parse_subcommand -r 1 'version'
        end
    end
end

function __cpk-pack_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __cpk-pack_parse_subcommand -S -a positional_count
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

function __cpk-pack_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __cpk-pack_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__cpk-pack_tokens -p)
    if test -z "$(__cpk-pack_tokens -t)"
        set -l index (count (__cpk-pack_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'cpk-pack' -f
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_positional "cpk-pack" -eq 1' -fa 'create' -d 'Pack a payload file (or - for standard input) into an envelope.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_positional "cpk-pack" -eq 1' -fa 'finish' -d 'Write an envelope (or a .cpk) as a finished .cpk package.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_positional "cpk-pack" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_positional "cpk-pack create" -eq 1' -F
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" id' -l 'id' -d 'Application id: the manifest\'s cp-id and the name of its encryption key.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" display-name' -l 'display-name' -d 'The application\'s display name.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" vendor' -l 'vendor' -d 'Vendor name.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" arch' -l 'arch' -d 'Target architecture.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" os' -l 'os' -d 'Target operating system.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" app-version' -l 'app-version' -d 'The application\'s version.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" date' -l 'date' -d 'Build date, RFC 3339 (default: now, or SOURCE_DATE_EPOCH when set).' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" cpk' -l 'cpk' -d 'Write a finished .cpk package instead of an envelope (the last step of a pipeline).'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" oci' -l 'oci' -d 'Write a finished .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.' -rfa '(__cpk-pack_complete_directories)'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_positional "cpk-pack finish" -eq 1' -F
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack finish" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack finish" oci' -l 'oci' -d 'Write the .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.' -rfa '(__cpk-pack_complete_directories)'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack finish" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack finish" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack finish" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack finish" version' -l 'version' -d 'Show the version.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack finish" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack help" version' -l 'version' -d 'Show the version.'
# Not a subcommand's name: the words are the default subcommand's (cpk-tools)
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_positional "cpk-pack" -eq 1' -F
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" id' -l 'id' -d 'Application id: the manifest\'s cp-id and the name of its encryption key.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" display-name' -l 'display-name' -d 'The application\'s display name.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" vendor' -l 'vendor' -d 'Vendor name.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" arch' -l 'arch' -d 'Target architecture.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" os' -l 'os' -d 'Target operating system.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" app-version' -l 'app-version' -d 'The application\'s version.' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" date' -l 'date' -d 'Build date, RFC 3339 (default: now, or SOURCE_DATE_EPOCH when set).' -rfka ''
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" o output' -l 'output' -s 'o' -d 'Write to FILE; - is standard output.' -rF
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" cpk' -l 'cpk' -d 'Write a finished .cpk package instead of an envelope (the last step of a pipeline).'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" oci' -l 'oci' -d 'Write a finished .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.' -rfa '(__cpk-pack_complete_directories)'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" q quiet' -l 'quiet' -s 'q' -d 'Say nothing on standard error but errors: no warnings, notes, confirmations or progress.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" v verbose' -l 'verbose' -s 'v' -d 'Say what each step does, on standard error.'
complete -c 'cpk-pack' -n '__cpk-pack_should_offer_completions_for_flags_or_options "cpk-pack" progress' -l 'progress' -d 'Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).'
