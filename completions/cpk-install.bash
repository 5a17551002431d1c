#!/bin/bash

__cpk-install_cursor_index_in_current_word() {
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
__cpk-install_offer_flags_options() {
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

__cpk-install_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__cpk-install_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_cpk-install() {
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
    __cpk-install_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    install|public-key|add-key|sync|report|list|remove|dev-export-plaintext|trust|attest|status|check-state|help)
        # Offer subcommand argument completions
        "_cpk-install_${subcommand}"
        ;;
    *)
        # Not a subcommand's name: the words are the default subcommand's (cpk-tools)
        COMPREPLY=()
        [[ "${COMP_CWORD}" -eq 1 ]] && COMPREPLY+=($(compgen -W 'install public-key add-key sync report list remove dev-export-plaintext trust attest status check-state help' -- "${cur}"))
        unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")
        "_cpk-install_install"
        ;;
    esac
}

_cpk-install_install() {
    repeating_flags=()
    non_repeating_flags=(--allow-expired --accept-unauthenticated-manifest --allow-signer-change --allow-downgrade --json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=(--ca --public-key --untrusted --certificate-identity --certificate-identity-regexp)
    non_repeating_options=(--at --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--ca')
        __cpk-install_add_completions -f
        return
        ;;
    '--public-key')
        __cpk-install_add_completions -f
        return
        ;;
    '--untrusted')
        __cpk-install_add_completions -f
        return
        ;;
    '--certificate-identity')
        return
        ;;
    '--certificate-identity-regexp')
        return
        ;;
    '--at')
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __cpk-install_add_completions -f
        return
        ;;
    esac
}

_cpk-install_public-key() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--format --output -o --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--format')
        __cpk-install_add_completions -W 'pem'$'\n''der'$'\n''pkcs1'$'\n''pkcs1-pem'$'\n''base64'$'\n''fingerprint'
        return
        ;;
    '--output'|'-o')
        __cpk-install_add_completions -f
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_add-key() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--id --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--id')
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __cpk-install_add_completions -f
        return
        ;;
    esac
}

_cpk-install_sync() {
    repeating_flags=()
    non_repeating_flags=(--json --insecure-unsigned-twin --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--id --file-store --url --timeout --ca-file --twin --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--id')
        __cpk-install_add_completions -W "$(__cpk-install_custom_complete ---completion sync -- --id "${COMP_CWORD}" "$(__cpk-install_cursor_index_in_current_word)")"
        return
        ;;
    '--file-store')
        __cpk-install_add_completions -f
        return
        ;;
    '--url')
        return
        ;;
    '--timeout')
        return
        ;;
    '--ca-file')
        __cpk-install_add_completions -f
        return
        ;;
    '--twin')
        __cpk-install_add_completions -f
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_report() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--device-id --device-cert --output -o --nonce --pcrs --ak-handle --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--device-id')
        return
        ;;
    '--device-cert')
        return
        ;;
    '--output'|'-o')
        return
        ;;
    '--nonce')
        return
        ;;
    '--pcrs')
        return
        ;;
    '--ak-handle')
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_list() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_remove() {
    repeating_flags=()
    non_repeating_flags=(--forget-history --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __cpk-install_add_completions -W "$(__cpk-install_custom_complete ---completion remove -- positional@0 "${COMP_CWORD}" "$(__cpk-install_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_cpk-install_dev-export-plaintext() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--output -o --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--output'|'-o')
        __cpk-install_add_completions -f
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __cpk-install_add_completions -W "$(__cpk-install_custom_complete ---completion dev-export-plaintext -- positional@0 "${COMP_CWORD}" "$(__cpk-install_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_cpk-install_trust() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cpk-install_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    add|list|remove)
        # Offer subcommand argument completions
        "_cpk-install_trust_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'add list remove' -- "${cur}"))
        ;;
    esac
}

_cpk-install_trust_add() {
    repeating_flags=()
    non_repeating_flags=(--fleet --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=(--id)
    non_repeating_options=(--device-id --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--id')
        return
        ;;
    '--device-id')
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __cpk-install_add_completions -f
        return
        ;;
    esac
}

_cpk-install_trust_list() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_trust_remove() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_attest() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cpk-install_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    enroll-request|activate)
        # Offer subcommand argument completions
        "_cpk-install_attest_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'enroll-request activate' -- "${cur}"))
        ;;
    esac
}

_cpk-install_attest_enroll-request() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--device-id --output -o --tcti --ak-handle --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--device-id')
        return
        ;;
    '--output'|'-o')
        return
        ;;
    '--tcti')
        return
        ;;
    '--ak-handle')
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_attest_activate() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--output -o --tcti --ak-handle --state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--output'|'-o')
        return
        ;;
    '--tcti')
        return
        ;;
    '--ak-handle')
        return
        ;;
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __cpk-install_add_completions -f
        return
        ;;
    esac
}

_cpk-install_status() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_check-state() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet -q --verbose -v --progress --version -h --help)
    repeating_options=()
    non_repeating_options=(--state --device-key --pin-file --pin-fd --pkcs11-module)
    __cpk-install_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--state')
        __cpk-install_add_completions -d
        return
        ;;
    '--device-key')
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
    esac
}

_cpk-install_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __cpk-install_offer_flags_options -1
}

complete -o filenames -F _cpk-install cpk-install
