import ArgumentParser

extension ParsableCommand {
    /// The bash completion script, with one change to what argument-parser generates: at the
    /// top level of a tool with a default subcommand (`cpk-pack`, `cpk-install`, …), words that
    /// are not a subcommand's name are the default subcommand's, so its options, enumerated
    /// values and file names are offered there too (`cpk-pack --<TAB>`, `cpk-install app.<TAB>`),
    /// beside the subcommands' names for the first word.
    static func bashCompletionScript() -> String {
        let script = completionScript(for: .bash)
        guard let defaultCommand = configuration.defaultSubcommand, let tool = configuration.commandName else {
            return script
        }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        let offered = "        # Offer subcommand completions\n"
            + "        COMPREPLY+=($(compgen -W '\(names.joined(separator: " "))' -- \"${cur}\"))\n"
        let replacement = """
                    # Not a subcommand's name: the words are the default subcommand's (cpk-tools)
                    COMPREPLY=()
                    [[ "${COMP_CWORD}" -eq 1 ]] && COMPREPLY+=($(compgen -W '\(names.joined(separator: " "))' -- "${cur}"))
                    unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")
                    "_\(tool)_\(defaultCommand._commandName)"

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

    /// `--generate-completion-script bash` (or `=bash`), alone on the command line.
    static func isBashCompletionRequest(_ arguments: [String]) -> Bool {
        arguments == ["--generate-completion-script", "bash"] || arguments == ["--generate-completion-script=bash"]
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
