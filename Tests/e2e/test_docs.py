"""Every option a tool accepts is documented in its man page, and every working tool has one."""

import json

import pytest

from cpk import REPO, check, run

DOCUMENTED = ["cpk-pack", "cpk-unpack", "cpk-seal", "cpk-wrap", "cpk-keyfetch", "cpk-install", "cpk-sign", "cpk-verify"]


def long_options(command: dict) -> set[str]:
    names = set()
    for argument in command.get("arguments", []):
        if argument.get("shouldDisplay", True) is False:
            continue
        for name in argument.get("names") or []:
            if name["kind"] == "long" and name["name"] not in ("help", "version"):
                names.add(name["name"])
    for sub in command.get("subcommands", []):
        if sub["commandName"] != "help":
            names |= long_options(sub)
    return names


@pytest.mark.parametrize("tool", DOCUMENTED)
def test_man_page_documents_every_long_option(tool):
    page = (REPO / "man" / f"{tool}.1").read_text()
    dump = json.loads(check(run(tool, "--experimental-dump-help")).stdout)
    options = long_options(dump["command"])
    assert options, "no options found: the help dump changed shape"
    missing = sorted(o for o in options if f"Fl -{o}" not in page)
    assert not missing, f"{tool}.1 does not document: {missing}"
    assert ".Sh EXIT STATUS" in page and ".Sh EXAMPLES" in page
