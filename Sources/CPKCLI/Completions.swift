import ArgumentParser

extension ParsableCommand {
    /// The bash completion script, with one change to what argument-parser generates: at the
    /// top level of a tool with a default subcommand (`cpk-pack`, `cpk-install`, …), words that
    /// are not a subcommand's name are the default subcommand's, so its options, enumerated
    /// values and file names are offered there too (`cpk-pack --<TAB>`, `cpk-install app.<TAB>`),
    /// beside the subcommands' names for the first word.
    static func bashCompletionScript() -> String {
        let script = completionScript(for: .bash)
        guard case let (tool, defaultCommand, names)? = defaultSubcommandNames else { return script }
        let offered = "        # Offer subcommand completions\n"
            + "        COMPREPLY+=($(compgen -W '\(names.joined(separator: " "))' -- \"${cur}\"))\n"
        let replacement = """
                    # Not a subcommand's name: the words are the default subcommand's (cpk-tools)
                    COMPREPLY=()
                    [[ "${COMP_CWORD}" -eq 1 ]] && COMPREPLY+=($(compgen -W '\(names.joined(separator: " "))' -- "${cur}"))
                    unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")
                    "_\(tool)_\(defaultCommand)"

            """
        // Only in the root function: a group below it (cpk-install trust) has no default.
        guard let root = script.firstRange(of: "\n_\(tool)() {\n"),
            let end = script[root.upperBound...].firstRange(of: "\n}\n"),
            let block = script[root.upperBound..<end.lowerBound].firstRange(of: offered)
        else {
            return script
        }
        var changed = script
        changed.replaceSubrange(block, with: replacement)
        return changed
    }

    /// The fish completion script, with the same change as for bash: the root parses the
    /// default subcommand's options (so `cpk-install --state DIR list` is still `list`), and
    /// every completion of the default subcommand is offered at the top level too.
    static func fishCompletionScript() -> String {
        let script = completionScript(for: .fish)
        guard case let (tool, defaultCommand, _)? = defaultSubcommandNames else { return script }
        let parse = "__\(tool)_parse_subcommand "
        var lines = script.components(separatedBy: "\n")
        // The root's parse line follows `case 'TOOL'`; the default's follows `case 'DEFAULT'`
        // one level in (8 spaces), the first such case after the root's.
        guard let root = lines.firstIndex(of: "    case '\(tool)'"), root + 1 < lines.count,
            lines[root + 1].hasPrefix("        " + parse),
            let defaultCase = lines[(root + 2)...].firstIndex(of: "        case '\(defaultCommand)'"),
            defaultCase + 1 < lines.count,
            let specs = lines[defaultCase + 1].firstRange(of: parse).map({ lines[defaultCase + 1][$0.upperBound...] }),
            let firstSpec = specs.firstIndex(of: " ")
        else { return script }
        lines[root + 1] = "        " + parse + "0" + specs[firstSpec...]
        let inDefault = "_should_offer_completions_for_flags_or_options \"\(tool) \(defaultCommand)\" "
        let positionalInDefault = "_should_offer_completions_for_positional \"\(tool) \(defaultCommand)\" "
        var copies: [String] = []
        for line in lines where line.hasPrefix("complete -c '\(tool)' ") {
            if line.contains(inDefault) {
                // --version and --help are the root's own already
                if line.contains(inDefault + "version'") || line.contains(inDefault + "h help'") { continue }
                copies.append(line.replacing(inDefault, with: "_should_offer_completions_for_flags_or_options \"\(tool)\" "))
            } else if line.contains(positionalInDefault) {
                copies.append(line.replacing(positionalInDefault, with: "_should_offer_completions_for_positional \"\(tool)\" "))
            }
        }
        guard !copies.isEmpty else { return script }
        let header = "# Not a subcommand's name: the words are the default subcommand's (cpk-tools)"
        let end = lines.last == "" ? lines.count - 1 : lines.count
        lines.insert(contentsOf: [header] + copies, at: end)
        return lines.joined(separator: "\n")
    }

    /// The zsh completion script, with the same change as for bash: when the first word is not
    /// a subcommand's name (an option, or the default subcommand's input), the default
    /// subcommand's completion function completes the whole line.
    static func zshCompletionScript() -> String {
        let script = completionScript(for: .zsh)
        guard case let (tool, defaultCommand, names)? = defaultSubcommandNames else { return script }
        let anchor = "    local -ir current_word_index=\"$((CURRENT - 1))\"\n"
        guard let root = script.firstRange(of: "\n_\(tool)() {\n"),
            let place = script[root.upperBound...].firstRange(of: anchor)
        else { return script }
        let dispatch = """

                # Not a subcommand's name first: the words are the default subcommand's (cpk-tools)
                if [[ "${words[2]}" == -* ]] || (( CURRENT > 2 )) && [[ "${words[2]}" != (\(names.joined(separator: "|"))) ]]; then
                    "_\(tool)_\(defaultCommand)"
                    return
                fi

            """
        var changed = script
        changed.insert(contentsOf: dispatch, at: place.upperBound)
        return changed
    }

    /// The tool's name, its default subcommand's name and every subcommand's name (and
    /// `help`), for the changes above; nil for a tool without a default subcommand.
    private static var defaultSubcommandNames: (tool: String, defaultCommand: String, names: [String])? {
        guard let defaultCommand = configuration.defaultSubcommand, let tool = configuration.commandName else { return nil }
        return (tool, defaultCommand._commandName, configuration.subcommands.map { $0._commandName } + ["help"])
    }

    /// The scripts with a change of ours, for `--generate-completion-script SHELL` (or
    /// `=SHELL`) alone on the command line; nil for anything else.
    static func completionScriptRequested(_ arguments: [String]) -> String? {
        let shell: String
        switch arguments.count {
        case 1 where arguments[0].hasPrefix("--generate-completion-script="):
            shell = String(arguments[0].dropFirst("--generate-completion-script=".count))
        case 2 where arguments[0] == "--generate-completion-script":
            shell = arguments[1]
        default:
            return nil
        }
        switch shell {
        case "bash": return bashCompletionScript()
        case "fish": return fishCompletionScript()
        case "zsh": return zshCompletionScript()
        default: return nil
        }
    }
}

/// What a custom completion reads of the command line being completed.
enum CompletionWords {
    /// The value given to `option` (`--state DIR` or `--state=DIR`) in `words`, unless it is
    /// the word being completed (`index`); the last one wins.
    static func value(of option: String, in words: [String], completing index: Int) -> String? {
        var value: String? = nil
        for (position, word) in words.enumerated() {
            if word == option, position + 1 < words.count, position + 1 != index {
                value = words[position + 1]
            } else if word.hasPrefix(option + "=") {
                value = String(word.dropFirst(option.count + 1))
            }
        }
        return value
    }
}
