"""`copilot leads`: enrol the leads whose own passphrase proves their approval (docs/security.md).

Passphrases are asked without echo, twice for a new one; when standard input is not a terminal (scripts,
tests) each is read as one line of it instead, in the order the prompts would come.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from base.errors import CopilotError
from copilot.actions.credentials import LEADS_FILE, Approver, Leads, local_time
from copilot.settings import home


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    evaluations: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add this module's commands under `copilot` and its measurements under `copilot eval`."""
    leads = commands.add_parser("leads", help="the leads who approve actions above a rep's limit, by passphrase")
    actions = leads.add_subparsers(dest="action", required=True)
    by_help = "an enrolled lead who authorises this with their passphrase (needed once any lead is enrolled)"
    add = actions.add_parser("add", help="enrol a lead (asks for their new passphrase twice)")
    add.add_argument("name", help="the lead's name, as the audit log records their approvals")
    add.add_argument(
        "--login",
        action="append",
        default=[],
        help="an OS login of the lead (repeatable), so their own desk's approval counts as theirs",
    )
    add.add_argument("--by", help=by_help)
    add.set_defaults(func=cmd_add)
    actions.add_parser("list", help="the enrolled leads, their logins and any lock").set_defaults(func=cmd_list)
    remove = actions.add_parser("remove", help="remove a lead")
    remove.add_argument("name")
    remove.add_argument("--by", required=True, help="a lead (also the one removed) who authorises it")
    remove.set_defaults(func=cmd_remove)
    change = actions.add_parser("passphrase", help="change a lead's passphrase (asks the current one first)")
    change.add_argument("name")
    change.set_defaults(func=cmd_passphrase)


def _leads() -> Leads:
    return Leads(home() / LEADS_FILE)


def _secret(prompt: str, *, new: bool = False) -> str:
    """A passphrase from the terminal without echo (a new one twice), else one line of standard input."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise CopilotError(f"{prompt.rstrip(': ')}: expected as a line on standard input, found none")
        return line.rstrip("\r\n")
    first = getpass.getpass(prompt)
    if new and getpass.getpass("The same again: ") != first:
        raise CopilotError("The two passphrases differ; nothing was changed")
    return first


def _verified(leads: Leads, name: str) -> Approver:
    return leads.verify(name, _secret(f"Passphrase of {name}: "))


def cmd_add(args: argparse.Namespace) -> int:
    leads = _leads()
    try:
        enrolled = bool(leads.enrolled())
        if enrolled and not args.by:  # said before asking for a passphrase the core would then refuse
            raise CopilotError(
                f"Leads are enrolled already: only one of them may add {args.name} (--by LEAD, then their passphrase)"
            )
        by = _verified(leads, args.by) if enrolled else None
        lead = leads.add(args.name, _secret(f"New passphrase for {args.name}: ", new=True), tuple(args.login), by)
    finally:
        leads.close()
    print(f"Enrolled {lead.name}" + (f" (logins: {', '.join(lead.logins)})" if lead.logins else ""))
    if not lead.logins:
        print(
            f"note: without --login, an approval {lead.name} gives at their own desk as rep is recognised as "
            "theirs only when that desk's user name is the same",
            file=sys.stderr,
        )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    leads = _leads()
    try:
        enrolled = leads.enrolled()
    finally:
        leads.close()
    if not enrolled:
        print("No lead is enrolled: nobody can give a lead's approval. Enrol one with: copilot leads add NAME")
        return 0
    for lead in enrolled:
        logins = f"  logins: {', '.join(lead.logins)}" if lead.logins else ""
        locked = f"  LOCKED until {local_time(lead.locked_until)}" if lead.locked_until else ""
        print(f"{lead.name}  enrolled {lead.enrolled_at}{logins}{locked}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    leads = _leads()
    try:
        leads.remove(args.name, _verified(leads, args.by))
    finally:
        leads.close()
    print(f"Removed {args.name.strip()}")
    return 0


def cmd_passphrase(args: argparse.Namespace) -> int:
    leads = _leads()
    try:
        lead = _verified(leads, args.name)
        leads.change(lead, _secret(f"New passphrase for {lead.name}: ", new=True))
    finally:
        leads.close()
    print(f"Changed the passphrase of {lead.name}")
    return 0
