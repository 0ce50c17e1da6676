"""`copilot screenshot`: the real panel, fed a conversation offscreen, saved as a PNG."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from base.errors import CopilotError

if TYPE_CHECKING:
    from ui.app import PanelApp
    from ui.sections.plan import PlanCard


def render_screenshot(
    out: Path,
    conversation: Path | None,
    upto: int | None,
    window: str = "panel",
    store: bool = False,
    approve: bool = False,
    approve_plan: bool = False,
    wrapup: bool = False,
) -> None:
    """Play the first ``upto`` messages of ``conversation`` (all when None: its last message) and save the panel,
    or save the policy packs window (``window="packs"``) with its newest inactive version selected.
    ``conversation`` may also name a demo conversation (``bereavement``). With ``store`` the data folder's
    systems are connected (connectors.toml, else the demo store): customer record, actions; ``approve`` shows
    what the first action that may run would change and confirms it (it runs) before the picture is taken,
    ``approve_plan`` approves the conversation's plan (its steps run until one stops it); ``wrapup`` opens the
    conversation's wrap-up (as F9 does) and shows it."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication, QWidget

    from copilot.actions.connections import configured, connect
    from copilot.settings import home
    from retrieval.embed import LocalEmbedder
    from ui.app import compose, start_workspace

    conversation = demo_named(conversation) if conversation is not None else None
    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def play() -> None:
        systems = connect(configured(home())) if store else None
        parts = compose(loop, systems=systems, remember=False)
        parts.panel.show()
        await start_workspace(parts, LocalEmbedder)
        parts.bridge.model_status_changed.emit("ready")
        if conversation is not None:
            parts.panel.open_conversation(conversation)
            if not parts.panel.player.messages_total:
                raise CopilotError(f"{conversation}: no readable message events; check it with `copilot replay`")
            played = 0
            while (upto is None or played < upto) and parts.panel.player.step():
                played += 1
            parts.panel.demo.set_progress(parts.panel.player.messages_played, parts.panel.player.messages_total)
            await parts.session.settle()
            if store:
                await _settle_actions(parts, approve)
                if approve_plan:
                    await _run_plan(parts)
                if approve or approve_plan:  # the card that changed; else the top, as the rep first sees it
                    shown_cards = parts.panel.plan_cards if approve_plan else parts.panel.action_cards
                    parts.panel.cards_area.ensureWidgetVisible(shown_cards, 0, 0)
            if wrapup:
                parts.panel.open_wrapup()
                await _until(parts, lambda: parts.panel.wrapup.wrapup is not None, 30)
        shown: QWidget = parts.panel
        if window == "packs":
            from ui.admin.packs import PacksWindow

            shown = packs = PacksWindow((await parts.ready).workspace, parts.tasks)
            packs.show()
            versions = packs.workspace.catalog.versions()
            active_names = {v.name for v in versions if v.active}
            inactive = [i for i, v in enumerate(versions) if not v.active and v.name in active_names]
            packs.table.selectRow(inactive[-1] if inactive else 0)
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        if not shown.grab().save(str(out)):
            raise CopilotError(f"could not write {out}; check the folder exists and is writable")
        await parts.aclose()
        if systems is not None:
            await systems.aclose()

    with loop:
        loop.run_until_complete(play())


def demo_named(conversation: Path) -> Path:
    """``conversation``, or the demo conversation of that name when no such file exists."""
    from copilot.settings import DEMO_CONVERSATIONS

    named = DEMO_CONVERSATIONS / f"{conversation.name.removesuffix('.jsonl')}.jsonl"
    return named if not conversation.exists() and named.exists() else conversation


async def _until(parts: PanelApp, done: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds * 20)):
        if done():
            break
        await asyncio.sleep(0.05)
    await parts.session.settle()


async def _run_plan(parts: PanelApp) -> None:
    """Approve the first plan offered and wait until it stops, finishes or asks for a lead."""

    def offered() -> PlanCard | None:
        return next((c for c in parts.panel.plan_cards.cards if "approve" in c.buttons), None)

    await _until(parts, lambda: offered() is not None, 30)  # offered with the actions, or just after them
    card = offered()
    if card is None:
        raise CopilotError("no plan is offered at this point of the conversation; check it with `copilot replay`")
    run_id = card.run.id
    card.buttons["approve"].click()  # says which steps would run, with Confirm
    confirming = parts.panel.plan_cards.card(run_id)
    if confirming is None or "confirm" not in confirming.buttons:
        raise CopilotError("the plan changed before it could be confirmed; take the screenshot again")
    confirming.buttons["confirm"].click()

    def settled() -> bool:
        shown = parts.panel.plan_cards.card(run_id)
        return shown is not None and shown.run.state not in ("offered", "running")

    await _until(parts, settled, 30)


async def _settle_actions(parts: PanelApp, approve: bool) -> None:
    """Wait for lookups and proposals (and, with ``approve``, for the first runnable action to finish)."""
    steady, known = 0, -1
    for _ in range(400):  # until the lookups have stopped adding results for a second and the cards are shown
        await asyncio.sleep(0.05)
        await parts.session.settle()
        conversation = parts.session.analysis.conversation
        results = len(conversation.tools) if conversation is not None else 0
        steady, known = (steady + 1, known) if results == known else (0, results)
        if steady >= 20 and parts.panel.action_cards.cards:
            break
    if approve:
        card = next((c for c in parts.panel.action_cards.cards if "approve" in c.buttons), None)
        if card is not None:
            action_id = card.action.id
            card.buttons["approve"].click()  # shows what it would change, with Confirm
            await _until(parts, lambda: "confirm" in _buttons(parts, action_id))
            confirming = parts.panel.action_cards.card(action_id)
            if confirming is None or "confirm" not in confirming.buttons:
                return  # it changed meanwhile (a newer analysis re-judged it): nothing is confirmed blind
            confirming.buttons["confirm"].click()
            await _until(
                parts,
                lambda: (
                    (c := parts.panel.action_cards.card(action_id)) is not None
                    and c.action.state in ("done", "failed", "unknown")
                ),
            )


def _buttons(parts: PanelApp, action_id: str) -> set[str]:
    card = parts.panel.action_cards.card(action_id)
    return set(card.buttons) if card is not None else set()
