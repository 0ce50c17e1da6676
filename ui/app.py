"""Starting the panel: one asyncio loop inside Qt (qasync), a crash hook, and the background start-up."""

from __future__ import annotations

import asyncio
import ctypes.util
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QWidget

from base.errors import ConfigError, ConnectorError, CopilotError, RecordsError, SystemUnavailable
from connectors.systems import Systems
from copilot.actions.connections import configured, connect
from copilot.actions.credentials import LEADS_FILE
from copilot.actions.ledger import open_desk
from copilot.conversation.language import load_detector
from copilot.pipeline import Pipeline
from copilot.records.folder import open_records
from copilot.records.store import Records
from copilot.session.live import LiveSources, Session
from copilot.session.memory import ConversationMemory
from copilot.session.playback import DemoPlayer
from copilot.session.tasks import Tasks, in_daemon_thread
from copilot.settings import DEMO_CONVERSATIONS, Settings, home
from copilot.workspace import Workspace
from retrieval.embed import Embedder
from retrieval.store import preload
from ui import heap
from ui.bridge import Bridge
from ui.lifetime import AppEmbedder, QuitOnSignals
from ui.panel import Panel
from ui.review import review_entry
from ui.sections.collapsible import PANEL_FILE
from ui.stall import StallMonitor

log = logging.getLogger("copilot.ui")
_IMPORTED = time.perf_counter()


def since_launch() -> float:
    """Seconds since this process started (from /proc on Linux; else since this module was imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _IMPORTED


HEADLESS_HELP = (
    "No display found, so the panel cannot open here. Headless commands that run the same pipeline:\n"
    "  copilot replay FILE.jsonl --json      advice per message as JSON lines\n"
    "  copilot screenshot OUT.png [--conversation FILE --upto N]   render the panel offscreen\n"
    "Or run `make run` from a desktop session (or set DISPLAY / WAYLAND_DISPLAY)."
)


XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}
"""Libraries Qt's X11 plugin needs that minimal Linux installs lack (library → Debian package)."""


def missing_x11_packages() -> list[str]:
    """Debian packages to install before Qt can open an X11 window; empty when nothing is missing."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY") or platform not in ("", "xcb"):
        return []
    return [package for library, package in XCB_LIBRARIES.items() if ctypes.util.find_library(library) is None]


def display_available() -> bool:
    """Whether Qt can open a window here; offscreen and other explicit platforms count as available."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@dataclass
class PanelApp:
    """The parts of a running panel, so the app, screenshots and tests build it the same way."""

    bridge: Bridge
    session: Session
    player: DemoPlayer
    panel: Panel
    ready: asyncio.Future[Pipeline]
    tasks: Tasks
    """The coroutines the panel and its windows start (inserting a reply, testing the LLM, loading a pack)."""
    live: LiveSources
    """The push endpoint and the Chatwoot helpdesk feeding the session (started by ``LiveSources.start``)."""
    windows: list[QWidget] = field(default_factory=list)
    """The window opened from the panel (handoff, settings, packs, what an AI draft sends): one at a time."""

    async def aclose(self) -> None:
        """Stop the live sources (what they received is applied first), then cancel every task of the panel,
        its windows and the session, and wait until all have ended."""
        await self.live.aclose()
        await self.tasks.aclose()
        await self.session.aclose()


def _left_open(parts: PanelApp) -> Path | None:
    """The conversation file open when the app last closed, if it still exists (it resumes where it was)."""
    opened = parts.session.analysis.memory.opened()
    source = Path(opened.source) if opened is not None and opened.source else None
    return source if source is not None and source.is_file() else None


def demo_conversations() -> list[Path]:
    return sorted(DEMO_CONVERSATIONS.glob("*.jsonl"))


def compose(
    loop: asyncio.AbstractEventLoop,
    folder: Path | None = None,
    systems: Systems | None = None,
    *,
    remember: bool = True,
) -> PanelApp:
    """Build the panel and its session; the pipeline arrives later through ``ready``. ``folder`` holds the
    settings, the records (unless settings name a server), pending actions, the audit log and where each
    conversation was left (the data folder unless given; ``remember`` False keeps that in memory only, for a
    screenshot or benchmark that must play from the start); ``systems`` are the connected systems (none: no
    customer lookups or actions)."""
    bridge = Bridge()
    ready: asyncio.Future[Pipeline] = loop.create_future()
    folder = folder or home()
    settings = Settings.load(folder)
    try:
        desk = open_desk(folder, settings, systems) if systems is not None else None
        desk_error = ""
    except CopilotError as exc:  # team mode with its database out of reach: the panel works without actions
        desk, desk_error = None, f"Actions are off: {exc}"
    try:
        records, _ = open_records(folder, settings)
        records_error = ""
    except RecordsError as exc:  # the panel still works; nothing is recorded until the database is fixed
        records, records_error = None, f"Records are off: {exc}"
    memory = ConversationMemory(folder if remember else None)
    session = Session.open(ready, bridge, records, lambda: Settings.load(folder).llm(), desk, memory)
    player = DemoPlayer(session.analysis)
    tasks = Tasks(loop)
    panel = Panel(bridge, player, demo_conversations(), session.reply, session.operations, tasks)
    panel.draft.set_llm_available(
        bool(settings.llm_base_url), "Set a language model endpoint in Settings to draft with it."
    )
    panel.fold_sections(folder / PANEL_FILE if remember else None)
    if settings.always_on_top:
        panel.on_top.setChecked(True)
    parts = PanelApp(bridge, session, player, panel, ready, tasks, LiveSources(loop, session.analysis, folder, bridge))
    for error in (desk_error, records_error):
        if error:
            bridge.error_reported.emit(error)
    wire_live(parts)
    panel.handoff_requested.connect(lambda: open_handoff(parts))
    panel.settings_requested.connect(lambda: open_settings(parts, folder))
    panel.packs_requested.connect(lambda: open_packs(parts, records))
    review_entry(panel, records, folder / LEADS_FILE, ready, parts.windows)  # leads: Ctrl+Shift+L
    panel.draft.preview_requested.connect(lambda: show_preview(parts))
    return parts


def wire_live(parts: PanelApp) -> None:
    """The header shows what the live sources follow; its pin and Send act on them."""
    bridge, header, live = parts.bridge, parts.panel.header, parts.live

    def followed(conversation: str, pinned: bool) -> None:
        header.show_followed(conversation, pinned)
        if header.send_target not in ("", conversation):  # a reply inserted for the one before is no longer offered
            live.drop_reply()
            header.withdraw_send()

    bridge.followed_changed.connect(followed)
    bridge.waiting_changed.connect(header.show_waiting)
    bridge.live_status_changed.connect(header.show_live_status)
    header.pin_toggled.connect(live.follow.pin)
    live.follow.on_end = parts.panel.conversation_ended  # the helpdesk's conversation_end opens the wrap-up
    parts.panel.reply_inserted.connect(
        lambda text: header.offer_send(live.pending) if live.inserted(text) else header.withdraw_send()
    )
    header.send_requested.connect(lambda: parts.tasks.spawn(send_reply(parts)))


async def send_reply(parts: PanelApp) -> None:
    """Send the inserted reply through the helpdesk, once; a reply surely not delivered may be sent again."""
    header, live = parts.panel.header, parts.live
    if not live.pending:  # a second click while the first is on its way
        return
    header.sending()
    try:
        conversation = await live.send()
    except SystemUnavailable as exc:
        header.offer_send(live.pending)
        parts.bridge.error_reported.emit(f"Not sent, send it again when the helpdesk answers: {exc}")
    except ConnectorError as exc:
        header.withdraw_send()
        parts.bridge.error_reported.emit(f"Not sent: {exc}")
    else:
        header.sent()
        parts.panel.notices.show_notices([f"Reply sent to {conversation}."])


def open_handoff(parts: PanelApp) -> None:
    from copilot.handoff import build_handoff
    from ui.handoff import HandoffWindow

    analysis = parts.session.analysis
    if analysis.conversation is None or analysis.insight is None:
        parts.bridge.error_reported.emit("The handoff package is ready once the first message has been analysed.")
        return
    conversation = analysis.conversation
    operations = parts.session.operations
    plans = [run.record() for run in operations.plans.runs(conversation.id)] if operations is not None else []
    handoff = build_handoff(conversation, analysis.insight, plans)
    window = HandoffWindow(handoff, conversation.title or conversation.id)
    parts.windows[:] = [window]
    window.show()


def open_settings(parts: PanelApp, folder: Path) -> None:
    from ui.settings import SettingsWindow

    ready = parts.ready.done() and parts.ready.exception() is None
    window = SettingsWindow(folder, parts.tasks, parts.ready.result().workspace if ready else None, parts.live)

    def apply(settings: Settings) -> None:
        parts.panel.on_top.setChecked(settings.always_on_top)
        parts.panel.draft.set_llm_available(
            bool(settings.llm_base_url), "Set a language model endpoint in Settings to draft with it."
        )

    window.saved.connect(apply)
    parts.windows[:] = [window]
    window.show()


def open_packs(parts: PanelApp, records: Records | None) -> None:
    """The Packs window, with the leads' change requests from ``records`` (None: records are off)."""
    if not parts.ready.done() or parts.ready.exception() is not None:
        parts.bridge.error_reported.emit("Policy packs open once retrieval has started; try again in a moment.")
        return
    from ui.admin.packs import PacksWindow

    window = PacksWindow(parts.ready.result().workspace, parts.tasks, records)
    window.packs_changed.connect(parts.bridge.packs_changed)
    parts.windows[:] = [window]
    window.show()


def show_preview(parts: PanelApp) -> None:
    """Exactly what an LLM draft would send (redacted), for the rep to read before asking for one."""
    from PySide6.QtWidgets import QPlainTextEdit

    from copilot.llm.client import preview

    request = parts.session.reply.llm_request()
    if request is None:
        parts.bridge.error_reported.emit("Nothing to send yet: wait for the first message to be analysed.")
        return
    view = QPlainTextEdit(preview(request))
    view.setReadOnly(True)
    view.setWindowTitle("What an AI draft sends (personal data redacted)")
    view.resize(560, 520)
    parts.windows[:] = [view]
    view.show()


async def start_workspace(parts: PanelApp, make_embedder: Callable[[], Embedder]) -> Workspace:
    """Open the data folder and the demo pack off the GUI thread, then hand the pipeline to the session.

    Both run in daemon threads: opening imports chromadb and cannot be interrupted, and a first-run pack
    load embeds for tens of seconds on a busy machine; neither may hold a closing app (a load commits with
    its catalog row, so one abandoned midway leaves nothing half-loaded).
    """
    try:
        embedder = make_embedder()
        with heap.loading():
            workspace = await in_daemon_thread(Workspace, home(), embedder)
            await in_daemon_thread(workspace.ensure_demo_pack)
            await in_daemon_thread(load_detector)
    except Exception as exc:
        parts.bridge.error_reported.emit(f"Could not start retrieval: {exc}")
        parts.bridge.model_status_changed.emit(f"failed: {exc}")
        parts.ready.set_exception(exc)
        raise
    parts.bridge.packs_changed.emit([v.key for v in workspace.catalog.active_versions()])
    parts.ready.set_result(Pipeline(workspace))
    log.info("retrieval ready %.2f s after launch", since_launch())
    await parts.panel.show_coaching()  # the leads' notes this rep has not seen, once the records are open
    return workspace


def before_first_paint() -> None:
    """What the app (and its bench) does once composed, before a window that must stay responsive is on
    screen: start chromadb's native system for the data folder's store, then settle the heap (ui/heap.py)."""
    preload(home() / "chroma")
    heap.settle_startup()


def install_crash_hook(bridge: Bridge) -> None:
    """Log uncaught errors (qasync routes async-slot errors here) and show them in the banner."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("uncaught error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        bridge.error_reported.emit(f"Something went wrong: {value}. Your work is kept; details are in the log.")

    sys.excepthook = hook


def run_app(conversation: Path | None) -> int:
    """Open the panel; returns the process exit code once it has closed (window closed, SIGTERM, Ctrl+C)."""
    if not display_available():
        print(HEADLESS_HELP, file=sys.stderr)
        return 2
    if missing := missing_x11_packages():
        print(
            f"Qt needs X11 libraries that are not installed: {' '.join(missing)}.\n"
            f"Install them (e.g. sudo apt-get install {' '.join(missing)}) or run `make run`, which does.",
            file=sys.stderr,
        )
        return 2
    import qasync

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Copilot")
    # Closing is ours: Qt quitting by itself would stop the loop with tasks in flight, and qasync then
    # steps them once more outside any running loop.
    QApplication.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closing = asyncio.Event()
    signals = QuitOnSignals(loop, closing.set, app)  # before the first paint: a SIGTERM right after it closes cleanly
    try:
        systems: Systems | None = connect(configured(home()))
        config_error = ""
    except ConfigError as exc:  # the panel still works: no lookups or actions until the file is fixed
        systems, config_error = None, f"Connected systems are off: {exc}"
    parts = compose(loop, systems=systems)
    parts.panel.closed.connect(closing.set)  # the panel is the app: its other windows go with it
    if config_error:
        parts.bridge.error_reported.emit(config_error)
    install_crash_hook(parts.bridge)
    before_first_paint()
    parts.panel.show()
    app.processEvents()
    log.info("panel painted %.2f s after launch", since_launch())
    monitor = StallMonitor()
    monitor.start()
    embedders: list[AppEmbedder] = []

    def make_embedder() -> Embedder:
        def on_status(status: str) -> None:
            log.info("model %s %.2f s after launch", status, since_launch())
            parts.bridge.report_model_status(status)

        embedders.append(AppEmbedder(Settings.load(home()).embedding_model, on_status))
        return embedders[-1]

    background = Tasks(loop)
    background.spawn(start_workspace(parts, make_embedder))
    background.spawn(parts.live.start())  # events that arrive before the model is ready wait for it
    if parts.session.operations is not None:  # actions whose reply died with the last run: read what happened
        parts.session.operations.resume()
    first = conversation or _left_open(parts) or next(iter(demo_conversations()), None)
    if first is not None:  # demo mode: a conversation is ready to play
        parts.panel.open_conversation(first)

    async def until_closed() -> None:
        await closing.wait()
        started = time.perf_counter()
        await shut_down(parts, background, embedders, systems)
        log.info("closed in %.2f s", time.perf_counter() - started)

    with loop:  # one run: the loop stops only once every task has ended
        loop.run_until_complete(until_closed())
    signals.close()
    log.info("longest event-loop stall: %.1f ms", monitor.max_stall_ms)
    return 0


async def shut_down(parts: PanelApp, background: Tasks, embedders: list[AppEmbedder], systems: Systems | None) -> None:
    """Cancel and await every task (the session's, the panel's, start-up's), stop the embedders taking
    work, then close the systems.

    Work already in a worker thread is not waited for: those are daemon threads (see ``in_daemon_thread``),
    and an encode they wait for now raises instead of returning (``AppEmbedder.close``).
    """
    await parts.aclose()
    await background.aclose()
    for embedder in embedders:
        embedder.close()
    if systems is not None:
        await systems.aclose()
