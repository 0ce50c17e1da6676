"""The `copilot` command: the app, and the headless commands that run the same pipeline without Qt.

This module is the composition root: it is the one place in ``copilot/`` allowed to reach into ``ui/``,
and it does so lazily, only for the commands that show windows.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from base.errors import CopilotError
from cli import leads, listen, live_bench, qa, records, redaction, suggestions, wrapup

if TYPE_CHECKING:
    from base.errors import EventError
    from copilot.actions.proposals import Proposal
    from copilot.pipeline import Insight, Pipeline
    from copilot.workspace import Workspace

log = logging.getLogger("copilot")
CHILD_EXIT_S = 1.0
"""How long a child process (the embedding model) has to exit once the app asked it to."""


def _progress(label: str) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


def _open_workspace() -> Workspace:
    from copilot.settings import Settings, home
    from copilot.workspace import Workspace
    from retrieval.embed import LocalEmbedder

    folder = home()
    workspace = Workspace(folder, LocalEmbedder(Settings.load(folder).embedding_model))
    workspace.ensure_demo_pack(progress=_progress("loading the demo pack"))
    return workspace


def cmd_replay(args: argparse.Namespace) -> int:
    from copilot.pipeline import Pipeline
    from copilot.replay import insight_record, replay

    workspace = _open_workspace()
    pinned: tuple[str, ...] = ()
    if args.pack:
        pack = workspace.load_pack(Path(args.pack), activate=False, progress=_progress(f"loading {args.pack}")).pack
        pinned = (f"{pack.name}@{pack.version}",)
    started = time.perf_counter()
    workspace.embedder.load()
    log.info("model ready in %.1f s", time.perf_counter() - started)
    pipeline = Pipeline(workspace, pinned)
    proposals: dict[int, list[dict[str, object]]] = {}
    insights: Iterable[Insight]
    if args.store:
        insights, errors, proposals = _replay_with_store(args, pipeline)
    else:
        insights, errors = replay(Path(args.file), pipeline)
    totals: list[float] = []
    customer = covered = 0
    for insight in insights:
        totals.append(insight.timings_ms["total"])
        if insight.role == "customer":
            customer += 1
            covered += bool(insight.clauses)
        if args.json:
            record = insight_record(insight)
            if args.store:
                record["proposals"] = proposals.get(insight.seq, [])
            print(json.dumps(record, separators=(",", ":")), flush=True)
        else:
            print(f"#{insight.seq} {insight.role}")
            for note in insight.notices:
                print(f"   ! {note}")
            for clause in insight.clauses:
                print(f"   {clause.score:.2f}  {clause.title}  [{clause.citation}]")
            if not insight.clauses:
                print("   (no clause above the relevance floor)")
    for error in errors:
        print(f"skipped: {error}", file=sys.stderr)
    if totals:
        p95 = statistics.quantiles(totals, n=20)[-1] if len(totals) > 1 else totals[0]
        print(
            f"{len(totals)} messages; customer messages with a clause: {covered}/{customer}; "
            f"latency p50 {statistics.median(totals):.1f} ms, p95 {p95:.1f} ms",
            file=sys.stderr,
        )
    return 1 if errors and not totals else 0


def _replay_with_store(
    args: argparse.Namespace, pipeline: Pipeline
) -> tuple[Iterable[Insight], list[EventError], dict[int, list[dict[str, object]]]]:
    """Replay with the bundled store (or the connected systems): lookups, and proposals per message."""
    import asyncio

    from copilot.actions.connections import configured, connect, demo_store
    from copilot.actions.ledger import open_desk
    from copilot.actions.proposals import summary
    from copilot.replay import replay_with_systems
    from copilot.settings import Settings, home

    folder = home()
    configs = (demo_store(folder, timeout_s=60.0),) if args.store == "demo" else configured(folder)

    async def run() -> tuple[list[tuple[Insight, tuple[Proposal, ...]]], list[EventError]]:
        systems = connect(configs)
        desk = open_desk(folder, Settings.load(folder), systems)
        try:
            return await replay_with_systems(
                Path(args.file), pipeline, desk, lambda text: print(f"copilot: {text}", file=sys.stderr)
            )
        finally:
            await systems.aclose()
            desk.close()

    results, errors = asyncio.run(run())
    return ([i for i, _ in results], errors, {i.seq: summary(p) for i, p in results})


def cmd_handoff(args: argparse.Namespace) -> int:
    """`copilot handoff CONV.jsonl`: the handoff package after the conversation's last message."""
    from copilot.handoff import build_handoff
    from copilot.pipeline import Pipeline
    from copilot.replay import replay_states

    pipeline = Pipeline(_open_workspace())
    states, errors = replay_states(Path(args.file))
    for error in errors:
        print(f"skipped: {error}", file=sys.stderr)
    if not states:
        print(f"copilot: {args.file}: no messages to hand off", file=sys.stderr)
        return 2
    conversation, seq = states[-1]
    handoff = build_handoff(conversation, pipeline.run(conversation, seq))
    if args.json:
        print(json.dumps(handoff.record(), separators=(",", ":"), ensure_ascii=False))
    else:
        print(handoff.markdown(conversation.title or conversation.id))
    return 0


def cmd_packs_scaffold(args: argparse.Namespace) -> int:
    import asyncio

    from copilot.scaffold import server_tools, write_scaffold

    tools = asyncio.run(server_tools(args.server))
    folder = Path(args.output)
    pack = write_scaffold(Path(args.policy), tools, folder)
    writes = sum(not t.read_only for t in tools)
    print(f"{folder}: {len(pack.clauses)} clauses, {len(tools)} tools ({writes} that write, each blocked until")
    print("its rule in actions.toml is written); fill in systems.toml, actions.toml and playbooks.toml, then")
    print(f"`copilot packs load {folder}` (docs/policy-packs.md)")
    return 0


def cmd_packs(args: argparse.Namespace) -> int:
    """Admin commands on policy packs; each prints what it did in one or a few lines."""
    workspace = _open_workspace()
    catalog = workspace.catalog

    def also_active(name: str) -> None:
        """Active packs combine, so an admin who just switched one on is told which others still apply."""
        others = [v.key for v in catalog.active_versions() if v.name != name]
        if others:
            print(f"also active: {', '.join(others)} (`copilot packs deactivate NAME` leaves one out)")

    if args.action == "load":
        result = workspace.load_pack(
            Path(args.path),
            activate=args.activate,
            progress=_progress("loading"),
            name=args.pack_name,
            version=args.pack_version,
        )
        pack = result.pack
        print(f"{pack.name}@{pack.version}: {result.summary()}{'; active' if args.activate else ''}")
        if args.activate:
            also_active(pack.name)
    elif args.action == "verify":
        found = workspace.verify(repair=not args.check)
        for problem in found.problems:
            print(problem)
        for repair in found.repaired:
            print(f"repaired: {repair}")
        outcome = (
            "catalog, vectors and clause texts agree"
            if not found.problems
            else f"{len(found.problems)} problem(s), "
            + (f"{found.unresolved} not repaired" if found.unresolved else "all repaired")
        )
        print(f"{found.versions} versions, {found.vectors} vectors checked: {outcome}")
        return 1 if found.unresolved else 0
    elif args.action == "list":
        print(f"{'name':24} {'version':12} {'status':10} {'clauses':>7}  loaded at")
        for v in catalog.versions():
            print(f"{v.name:24} {v.version:12} {v.status():10} {v.clause_count:>7}  {v.loaded_at}")
    elif args.action == "activate":
        catalog.activate(args.name, args.version)
        print(f"{args.name}@{args.version} is now the active version")
        also_active(args.name)
    elif args.action == "deactivate":
        was = catalog.deactivate(args.name)
        print(
            f"{args.name}@{was} deactivated; no version of {args.name} is active now "
            f"(`copilot packs rollback {args.name}` brings it back)"
            if was
            else f"{args.name}: no version is active, nothing to do"
        )
    elif args.action == "rollback":
        print(f"{args.name}: rolled back to {catalog.rollback(args.name)}")
        also_active(args.name)
    elif args.action == "remove":
        workspace.remove_pack(args.name, args.version)
        print(f"{args.name}@{args.version} removed (its citations still resolve with `copilot packs show`)")
    elif args.action == "priority":
        catalog.set_priority(args.names)
        print("priority, highest first: " + ", ".join(catalog.pack_names()))
    elif args.action == "diff":
        from retrieval.diff import diff_versions

        changes = diff_versions(catalog, args.name, args.old, args.new)
        for change in changes:
            print(f"{change.kind:8} {change.clause_id}")
            if change.kind == "changed":
                print(f"         {change.words}")
        counts = {kind: sum(c.kind == kind for c in changes) for kind in ("added", "removed", "changed")}
        print(", ".join(f"{n} {kind}" for kind, n in counts.items()), file=sys.stderr)
    elif args.action == "show":
        clause = catalog.clause(args.citation)
        if clause is None:
            raise CopilotError(
                f"{args.citation}: no such citation; the form is name@version#clause-id (see `copilot packs list`)"
            )
        status = next((v.status() for v in catalog.versions() if v.key == f"{clause.name}@{clause.version}"), "removed")
        print(f"{clause.citation}  ({status})\n{clause.title}\n\n{clause.text}")
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    """Show or change the embedding model; a change re-embeds every loaded version first."""
    from copilot.settings import Settings, home
    from retrieval.embed import resolve_model

    folder = home()
    settings = Settings.load(folder)
    if args.action == "show":
        print(f"{settings.embedding_model}  ({resolve_model(settings.embedding_model)})")
        return 0
    from copilot.workspace import switch_model

    model = switch_model(_open_workspace(), args.model, progress=_progress(f"embedding with {Path(args.model).name}"))
    print(f"embedding model is now {model}; every loaded pack version was embedded with it")
    return 0


DEFAULT_MODE = "hybrid"
"""The retrieval mode the panel uses (see retrieval/search.py)."""


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    from copilot.settings import home
    from retrieval.embed import LocalEmbedder
    from retrieval.evaluate import evaluate_retrieval

    ks = sorted({int(k) for k in args.k.split(",")} | {1, 5, 10})
    results = evaluate_retrieval(
        Path(args.passages), Path(args.queries), home(), LocalEmbedder(), ks, progress=_progress("embedding passages")
    )
    columns = [f"recall@{k}" for k in ks] + ["success@5", "mrr", "p50_ms", "p95_ms"]
    print(f"{'mode':8}" + "".join(f"{c:>11}" for c in columns))
    for mode, metrics in results.items():
        marker = " (default)" if mode == DEFAULT_MODE else ""
        print(f"{mode:8}" + "".join(f"{metrics[c]:>11.3f}" for c in columns) + marker)
    if args.json:
        print(json.dumps({**results, "default": DEFAULT_MODE}, separators=(",", ":")))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from cli.bench import run_bench, run_ingest_bench, run_qa_bench

    if args.live:
        return live_bench.cmd_bench_live(args)

    def say(text: str) -> None:
        print(f"bench: {text}", file=sys.stderr, flush=True)

    if args.qa:
        result = run_qa_bench(args.qa_conversations, args.seed, say)
    elif args.ingest:
        result = run_ingest_bench(tuple(int(n) for n in args.megabytes.split(",")), args.seed, say)
    else:
        result = run_bench(tuple(int(n) for n in args.sizes.split(",")), args.seed, say)
    for name, value in result.items():
        print(f"{name:16} {json.dumps(value)}")
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    return 0


def cmd_eval_actions(args: argparse.Namespace) -> int:
    import asyncio

    from copilot.action_policy import pack_policy
    from copilot.actions.benchmark import evaluate_actions, read_cases, read_tasks
    from retrieval.packs import load_pack

    policy = pack_policy(load_pack(Path(args.pack)), args.pack)
    cases = read_cases(Path(args.cases))
    tasks = read_tasks(Path(args.tasks))
    scores = asyncio.run(evaluate_actions(policy, args.server, tasks, cases, _progress("cases")))
    result = scores.as_json()
    print(f"{'rule':28}{'valid allowed':>16}{'invalid blocked':>18}")
    for rule, tally in result["by_rule"].items():
        allowed = "-" if tally["valid_allowed"] is None else f"{tally['valid_allowed']:.2f} of {tally['valid']}"
        blocked = "-" if tally["invalid_blocked"] is None else f"{tally['invalid_blocked']:.2f} of {tally['invalid']}"
        print(f"{rule:28}{allowed:>16}{blocked:>18}")
    print(f"{'all':28}{result['valid_allowed'] or 0:>16.3f}{result['invalid_blocked'] or 0:>18.3f}")
    for mistake in result["mistakes"]:
        print(
            f"  {mistake['id']}: expected {mistake['expected']}, got {mistake['got']} ({mistake['why']})",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    return 0


def cmd_eval_cases(args: argparse.Namespace) -> int:
    """`copilot eval escalation|flags --cases F`: precision and recall per category and micro."""
    from copilot.labelled import LabelledCase, read_cases, score
    from copilot.reasoner import Reasoner
    from copilot.reasoning.escalation import ESCALATION_CATEGORIES
    from copilot.reasoning.rules import FLAG_CATEGORIES

    workspace = _open_workspace()
    reasoner = Reasoner(workspace)
    packs = tuple(v.key for v in workspace.catalog.active_versions())
    if args.pack:
        pack = workspace.load_pack(Path(args.pack), activate=False, progress=_progress(f"loading {args.pack}")).pack
        packs = (f"{pack.name}@{pack.version}",)
    if args.kind == "escalation":
        cases = read_cases(Path(args.cases), "escalation", ESCALATION_CATEGORIES)
        result, mistakes = score(
            cases,
            lambda case: {e.category for e in reasoner.escalations(case.conversation, None, packs)},
            ESCALATION_CATEGORIES,
        )
    else:

        def flags(case: LabelledCase) -> set[str]:
            reps = [t for t in case.conversation.turns if t.role == "rep"]
            if not reps:
                return set()
            return {
                f.category
                for f in reasoner.turn_flags(case.conversation, reps[-1].seq, packs, ai_drafted=case.ai_drafted)
            }

        cases = read_cases(Path(args.cases), "flag", FLAG_CATEGORIES)
        result, mistakes = score(cases, flags, FLAG_CATEGORIES)
    print(f"{'category':22}{'precision':>10}{'recall':>8}{'support':>9}")
    for name, values in result["per_category"].items():
        print(f"{name:22}{values['precision']:>10.3f}{values['recall']:>8.3f}{values['support']:>9}")
    micro = result["micro"]
    print(f"{'micro':22}{micro['precision']:>10.3f}{micro['recall']:>8.3f}   f1 {micro['f1']:.3f}")
    if args.verbose_cases:
        for line in mistakes:
            print(f"  {line}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ui.app import run_app  # composition root: the only reach into ui/

    leave(run_app(Path(args.conversation) if args.conversation else None))


def leave(code: int) -> NoReturn:
    """Exit without the interpreter's teardown, once the app has closed its tasks, systems and stores.

    What teardown would still do is free several hundred MB of objects one at a time, which took 0.8 s
    after a SIGTERM; everything is written by then. It would also stop any abandoned worker thread (see
    ``in_daemon_thread``) wherever it is, and one inside the model's native code then aborts the process
    ("FATAL: exception not rethrown"). The embedding child is stopped and the logs and output are flushed
    first, as an orderly exit would.
    """
    for child in multiprocessing.active_children():
        child.terminate()
        child.join(CHILD_EXIT_S)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_screenshot(args: argparse.Namespace) -> int:
    from ui.screenshot import render_screenshot  # composition root: the only reach into ui/

    render_screenshot(
        Path(args.out),
        Path(args.conversation) if args.conversation else None,
        args.upto,
        args.window,
        args.store,
        args.approve,
        args.approve_plan,
        args.wrapup,
    )
    print(args.out)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from copilot.actions.ledger import audit_verification, export_audit, rotate_audit_key
    from copilot.settings import Settings, home

    folder = home()
    settings = Settings.load(folder)
    if args.action == "export":
        if args.out:
            with open(args.out, "w", encoding="utf-8") as out:
                count = export_audit(folder, settings, out)
            print(f"{count} records written to {args.out}", file=sys.stderr)
        else:
            export_audit(folder, settings, sys.stdout)
        return 0
    if args.action == "rotate-key":
        print(f"records are signed with a new key from now on; it is in {rotate_audit_key(folder, settings)}")
        return 0
    found = audit_verification(folder, settings)
    for problem in found.problems:
        print(problem)
    for note in found.notes:
        print(f"note: {note}")
    head = f", signed head at record {found.head_seq}" if found.head_seq is not None else ""
    print(
        f"{found.records} records, chain intact{head}"
        if not found.problems
        else f"{found.records} records, {len(found.problems)} problem(s): the log was changed outside the app"
    )
    return 1 if found.problems else 0


def cmd_demo_store(args: argparse.Namespace) -> int:
    from connectors.demo_store.server import main as serve
    from copilot.actions.connections import DEMO_STORE_FILE
    from copilot.settings import home

    argv = ["--db", args.db or str(home() / DEMO_STORE_FILE)]
    if args.http:
        argv += ["--http", "--host", args.host, "--port", str(args.port)]
    serve(argv)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copilot", description="Agent-assist side panel for support reps.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="open the side panel (the default command)")
    run.add_argument("--conversation", help="a JSONL event file to open in the demo player")
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser("replay", help="run the panel's pipeline over a conversation file, without Qt")
    rep.add_argument("file", help="conversation events (JSONL, see docs/conversation-events.md)")
    rep.add_argument("--json", action="store_true", help="one compact JSON line per message on stdout")
    rep.add_argument("--pack", help="use only this pack (folder, .zip or Markdown document) instead of the active ones")
    rep.add_argument(
        "--store",
        choices=("demo", "connected"),
        help="look customers and orders up in the bundled demo store (or the systems of "
        "connectors.toml) and add each message's action proposals; nothing is executed",
    )
    rep.set_defaults(func=cmd_replay)

    hand = sub.add_parser("handoff", help="the handoff package after a conversation's last message, without Qt")
    hand.add_argument("file", help="conversation events (JSONL)")
    hand.add_argument("--json", action="store_true", help="one compact JSON line instead of Markdown")
    hand.set_defaults(func=cmd_handoff)

    packs = sub.add_parser(
        "packs", help="load, list, activate, deactivate, roll back, diff, remove and verify policy packs"
    )
    actions = packs.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="validate and load a pack folder, .zip or Markdown / text / HTML document")
    load.add_argument("path")
    load.add_argument("--activate", action="store_true", help="make it the active version once loaded")
    load.add_argument(
        "--name",
        dest="pack_name",
        metavar="NAME",
        help="load it under this pack name (lowercase letters, digits, hyphens); a document's is its file name",
    )
    load.add_argument(
        "--version",
        dest="pack_version",
        metavar="VERSION",
        help="load it as this PEP 440 version; a document's is 1.0",
    )
    actions.add_parser("list", help="one line per loaded version")
    for action, text in (("activate", "make a version the active one"), ("remove", "remove an inactive version")):
        one = actions.add_parser(action, help=text)
        one.add_argument("name")
        one.add_argument("version")
    actions.add_parser(
        "deactivate", help="leave a pack with no active version (its versions stay loaded; rollback brings it back)"
    ).add_argument("name")
    actions.add_parser("rollback", help="return to the previously active version").add_argument("name")
    changes = actions.add_parser("diff", help="clauses added, removed and changed between two versions")
    changes.add_argument("name")
    changes.add_argument("old")
    changes.add_argument("new")
    actions.add_parser("show", help="print the clause a citation names").add_argument("citation")
    actions.add_parser(
        "verify",
        help="check the catalog, the vectors and the clause texts against each other; re-embed from the catalog "
        "what is missing or wrong",
    ).add_argument("--check", action="store_true", help="only report, repair nothing")
    actions.add_parser("priority", help="set the pack priority order, highest first").add_argument("names", nargs="+")
    scaffold = actions.add_parser(
        "scaffold", help="write a pack folder to start from: a policy document's clauses and a server's tools"
    )
    scaffold.add_argument("policy", help="the policy document (Markdown, text or HTML)")
    scaffold.add_argument("--server", required=True, help="command starting the company's MCP server (stdio)")
    scaffold.add_argument("-o", "--output", required=True, help="the new pack folder (must not exist or be empty)")
    scaffold.set_defaults(func=cmd_packs_scaffold)
    packs.set_defaults(func=cmd_packs)

    model = sub.add_parser("model", help="show or change the embedding model")
    model_actions = model.add_subparsers(dest="action", required=True)
    model_actions.add_parser("show", help="the model in use")
    model_actions.add_parser("set", help="use another local sentence-transformers folder (or 'default')").add_argument(
        "model"
    )
    model.set_defaults(func=cmd_model)

    evaluate = sub.add_parser("eval", help="measure the copilot on labelled data")
    kinds = evaluate.add_subparsers(dest="kind", required=True)
    retrieval = kinds.add_parser("retrieval", help="recall@k, success@5, MRR, latency: bm25, dense and hybrid")
    retrieval.add_argument("--passages", required=True, help="passages JSONL (id, title, text)")
    retrieval.add_argument("--queries", required=True, help="queries JSONL (id, text, relevant)")
    retrieval.add_argument("--k", default="1,5,10", help="cut-offs for recall@k, comma-separated")
    retrieval.add_argument("--json", action="store_true", help="also print one compact JSON line, last on stdout")
    retrieval.set_defaults(func=cmd_eval_retrieval)

    acts = kinds.add_parser("actions", help="valid actions allowed and invalid ones blocked by a pack's guardrails")
    acts.add_argument("--pack", required=True, help="the pack (folder or .zip) whose systems and guardrails judge")
    acts.add_argument("--server", required=True, help="command starting a fresh MCP server ({state}, {task} replaced)")
    acts.add_argument("--tasks", required=True, help="tasks JSON (id, evaluation_criteria.actions)")
    acts.add_argument("--cases", required=True, help="labelled action cases JSONL (docs/eval.md)")
    acts.add_argument("--json", action="store_true", help="also print one compact JSON line, last on stdout")
    acts.set_defaults(func=cmd_eval_actions)

    bench = sub.add_parser("bench", help="measure speed and memory on synthetic packs")
    bench.add_argument("--sizes", default="1000,10000", help="pack sizes in clauses, comma-separated")
    bench.add_argument("--seed", type=int, default=7, help="seed of the synthetic clauses")
    bench.add_argument(
        "--ingest", action="store_true", help="measure pack ingest alone: time and peak memory per pack size in MB"
    )
    bench.add_argument("--megabytes", default="1,10,50", help="with --ingest: pack sizes in MB, comma-separated")
    bench.add_argument("--json", action="store_true", help="also print one compact JSON line, last on stdout")
    live_bench.add_arguments(bench)
    bench.set_defaults(func=cmd_bench)

    for kind, text in (("escalation", "escalation detection"), ("flags", "compliance flags")):
        cases = kinds.add_parser(kind, help=f"precision and recall of {text} on labelled cases")
        cases.add_argument("--cases", required=True, help="labelled cases JSONL (docs/eval.md)")
        cases.add_argument("--json", action="store_true", help="also print one compact JSON line, last on stdout")
        cases.add_argument("--pack", help="judge with this pack (folder or .zip) instead of the active ones")
        cases.add_argument(
            "--show-mistakes",
            dest="verbose_cases",
            action="store_true",
            help="list the cases that came out wrong on stderr",
        )
        cases.set_defaults(func=cmd_eval_cases, kind=kind)

    audit = sub.add_parser("audit", help="check or export the audit log of actions")
    audit_actions = audit.add_subparsers(dest="action", required=True)
    audit_actions.add_parser(
        "verify", help="check records, signatures and the signed head: every edited, forged or deleted record is named"
    )
    audit_actions.add_parser("rotate-key", help="sign from now on with a new key (docs/security.md)")
    audit_actions.add_parser("export", help="write every record as JSONL").add_argument(
        "-o", "--out", help="file to write (standard output by default)"
    )
    audit.set_defaults(func=cmd_audit)

    store = sub.add_parser("demo-store", help="run the bundled demo store, an MCP server (stdio by default)")
    store.add_argument(
        "--db", help="its SQLite file (default: demo-store.sqlite3 in the data folder; seeded on first use)"
    )
    store.add_argument("--http", action="store_true", help="serve streamable HTTP at /mcp instead of stdio")
    store.add_argument("--host", default="127.0.0.1")
    store.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on stdout)")
    store.set_defaults(func=cmd_demo_store)

    shot = sub.add_parser("screenshot", help="render the panel offscreen to a PNG")
    shot.add_argument("out", help="PNG file to write")
    shot.add_argument(
        "--conversation", help="conversation to play into the panel first: a file, or a demo's name (bereavement)"
    )
    shot.add_argument("--upto", type=int, default=None, help="play only the first N message events")
    shot.add_argument("--window", choices=("panel", "packs"), default="panel", help="which window to render")
    shot.add_argument(
        "--store",
        action="store_true",
        help="connect the systems of connectors.toml (the demo store when there is none): customer record, actions",
    )
    shot.add_argument(
        "--approve",
        action="store_true",
        help="with --store: approve the first action that may run and confirm what it changes (it runs)",
    )
    shot.add_argument(
        "--approve-plan",
        action="store_true",
        help="with --store: approve the conversation's plan (its steps run until one stops it) and show its card",
    )
    shot.add_argument("--wrapup", action="store_true", help="open the conversation's wrap-up (as F9 does) and show it")
    shot.set_defaults(func=cmd_screenshot)
    for commands in (leads, listen, records, redaction, suggestions, qa, wrapup):
        commands.register(sub, kinds)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        args = build_parser().parse_args(["run", *(argv or sys.argv[1:])])
    try:
        return int(args.func(args))
    except CopilotError as exc:
        print(f"copilot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
