#!/bin/bash

__cpk-keyfetch_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__cpk-keyfetch_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__cpk-keyfetch_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__cpk-keyfetch_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_cpk-keyfetch() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __cpk-keyfetch_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    fetch|provision|distribute|enroll|keyprovider|help)
        # Offer subcommand argument completions
        "_cpk-keyfetch_${subcommand}"
        ;;
    *)
        # Not a subcommand's name: the words are the default subcommand's (cpk-tools)
        COMPREPLY=()
        [[ "${COMP_CWORD}" -eq 1 ]] && COMPREPLY+=($(compgen -W 'fetch provision distribute enroll keyprovider help' -- "${cur}"))
        unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")
        "_cpk-keyfetch_fetch"
        ;;
    esac
}

_cpk-keyfetch_fetch() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--key-name --to --file-store --url --timeout --ca-file --inline --twin --padding --format --output -o)
    __cpk-keyfetch_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--key-name')
        __cpk-keyfetch_add_completions -W "$(__cpk-keyfetch_custom_complete ---completion fetch -- --key-name "${COMP_CWORD}" "$(__cpk-keyfetch_cursor_index_in_current_word)")"
        return
        ;;
    '--to')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--file-store')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--url')
        return
        ;;
    '--timeout')
        return
        ;;
    '--ca-file')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--inline')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--twin')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--padding')
        __cpk-keyfetch_add_completions -W 'oaep-sha256'$'\n''pkcs1v15'
        return
        ;;
    '--format')
        __cpk-keyfetch_add_completions -W 'document'$'\n''raw'$'\n''base64'
        return
        ;;
    '--output'|'-o')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    esac
}

_cpk-keyfetch_provision() {
    repeating_flags=()
    non_repeating_flags=(--force --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--key-name --file-store --url --timeout --ca-file)
    __cpk-keyfetch_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--key-name')
        return
        ;;
    '--file-store')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--url')
        return
        ;;
    '--timeout')
        return
        ;;
    '--ca-file')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    esac
}

_cpk-keyfetch_distribute() {
    repeating_flags=()
    non_repeating_flags=(--insecure-any-device --json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=(--key-name --device-ca --ek-ca)
    non_repeating_options=(--file-store --policy --padding --allow-list --tpm-registry --nonce --key --pin-file --pin-fd --pkcs11-module --passphrase-file --passphrase-env --cert --scheme --valid-for --generation --output-dir --output -o)
    __cpk-keyfetch_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--file-store')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--key-name')
        return
        ;;
    '--policy')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--padding')
        __cpk-keyfetch_add_completions -W 'oaep-sha256'$'\n''pkcs1v15'
        return
        ;;
    '--device-ca')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--allow-list')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--tpm-registry')
        __cpk-keyfetch_add_completions -d
        return
        ;;
    '--ek-ca')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--nonce')
        return
        ;;
    '--key')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--pin-file')
        return
        ;;
    '--pin-fd')
        return
        ;;
    '--pkcs11-module')
        return
        ;;
    '--passphrase-file')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--passphrase-env')
        return
        ;;
    '--cert')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--scheme')
        __cpk-keyfetch_add_completions -W 'rsa-pkcs1v15'$'\n''rsa-pss'$'\n''ecdsa-p256'$'\n''ecdsa-p384'$'\n''ed25519'
        return
        ;;
    '--valid-for')
        return
        ;;
    '--generation')
        return
        ;;
    '--output-dir')
        __cpk-keyfetch_add_completions -d
        return
        ;;
    '--output'|'-o')
        return
        ;;
    esac
}

_cpk-keyfetch_enroll() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cpk-keyfetch_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    challenge|finish|list)
        # Offer subcommand argument completions
        "_cpk-keyfetch_enroll_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'challenge finish list' -- "${cur}"))
        ;;
    esac
}

_cpk-keyfetch_enroll_challenge() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=(--ek-ca)
    non_repeating_options=(--registry --output -o)
    __cpk-keyfetch_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--ek-ca')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--registry')
        __cpk-keyfetch_add_completions -d
        return
        ;;
    '--output'|'-o')
        return
        ;;
    esac
}

_cpk-keyfetch_enroll_finish() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--registry)
    __cpk-keyfetch_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--registry')
        __cpk-keyfetch_add_completions -d
        return
        ;;
    esac
}

_cpk-keyfetch_enroll_list() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--registry)
    __cpk-keyfetch_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--registry')
        __cpk-keyfetch_add_completions -d
        return
        ;;
    esac
}

_cpk-keyfetch_keyprovider() {
    repeating_flags=()
    non_repeating_flags=(--insecure-listen-any --allow-sample-key --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--file-store --provider --listen --tls-cert --tls-key)
    __cpk-keyfetch_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--file-store')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--provider')
        return
        ;;
    '--listen')
        return
        ;;
    '--tls-cert')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    '--tls-key')
        __cpk-keyfetch_add_completions -f
        return
        ;;
    esac
}

_cpk-keyfetch_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __cpk-keyfetch_offer_flags_options -1
}

complete -o filenames -F _cpk-keyfetch cpk-keyfetch
