"""Composition root of the kitchen display: ``kitchen-display --config FILE``.

:func:`build_display` wires one screen (sync, model, window) around an MQ client
and is what tests use to run several displays in one process;
:func:`main` is the command line entry point.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLoggingCategory, QRect, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from kitchen_display import first_run, i18n
from kitchen_display.autopilot import Autopilot, PaintCounter, ready_ids
from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.card_wall import CardWall
from kitchen_display.config import LANGUAGES, VIEWS, DisplayConfig
from kitchen_display.follow import follow_tickets
from kitchen_display.sound import Escalator, Player, SoundBoard, TicketSounds
from kitchen_display.sync import MqLike, TicketSync
from kitchen_display.ticket_model import Role, TicketListModel
from kitchen_display.window import MainWindow
from shared import logs, redact, version
from shared.config import load
from shared.errors import ConfigError, SecretError

if TYPE_CHECKING:
    from kitchen_display.setup_screen import SetupWindow

log = logging.getLogger("kds.ui")


class DisplayApp:
    """One running kitchen screen.

    Attributes: ``config``, ``mq`` (the client given to :func:`build_display`),
    ``sync`` (:class:`TicketSync`), ``model`` (:class:`TicketListModel`),
    ``window`` (:class:`MainWindow`), ``view`` (its :class:`~kitchen_display.card_wall.CardWall`),
    ``delegate`` (:class:`TicketCardDelegate`) and ``sounds``
    (:class:`~kitchen_display.sound.TicketSounds`: ``sounds.board.played``).
    """

    def __init__(
        self,
        config: DisplayConfig,
        mq: MqLike,
        sync: TicketSync,
        model: TicketListModel,
        window: MainWindow,
        sounds: TicketSounds,
    ) -> None:
        self.config = config
        self.mq = mq
        self.sync = sync
        self.model = model
        self.window = window
        self.sounds = sounds
        self._closed = False

    @property
    def view(self) -> CardWall:
        return self.window.view

    @property
    def delegate(self) -> TicketCardDelegate:
        return self.window.delegate

    def start(self, *, show: bool = True) -> DisplayApp:
        """Start syncing (subscribe, connect, snapshot) and show the window."""
        self.sync.start()
        if show:
            if self.config.display.full_screen:
                self.window.showFullScreen()
            else:
                self.window.show()
        return self

    def close(self) -> None:
        """Close the window and the MQ client (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.sounds.escalator.clear()
        self.window.allow_close()
        self.window.close()
        self.sync.close()
        self.window.deleteLater()


def build_display(
    config: DisplayConfig,
    mq_client: MqLike,
    *,
    sound_player: Player | str | None = "auto",
    config_path: Path | None = None,
) -> DisplayApp:
    """Wire a display around ``mq_client`` (not started: call ``.start()``).

    ``sound_player``: ``"auto"`` plays through Qt Multimedia when the machine can,
    ``None`` keeps it silent (cues are still recorded in ``app.sounds.board.played``).
    The screen's texts are in the language installed with
    :func:`kitchen_display.i18n.install` (``main`` installs ``display.language``).
    ``config_path``: the file ``config`` came from (the about box names it).
    """
    sync = TicketSync(config, mq_client)
    model = TicketListModel(config.station, is_expo=config.is_expo, settings=config.display)
    follow_tickets(sync, model)
    window = MainWindow(config, sync, model, config_path=config_path)
    # The window owns the non-widget parts so they live exactly as long as it does.
    sync.setParent(window)
    model.setParent(window)
    settings = config.display
    board = SoundBoard(
        enabled=settings.sound, volume=settings.volume, player=sound_player, parent=window
    )
    escalator = Escalator(board, settings.sound_repeat_seconds, parent=window)
    sounds = TicketSounds(board, escalator, model.shows, parent=window).attach(sync)
    # A cook has seen a ticket when they select it by key, tap it, or tap its buttons.
    window.ticketSelectedByUser.connect(sounds.acknowledge)
    window.view.pressed.connect(
        lambda index: sounds.acknowledge(str(index.data(Role.IdRole) or ""))
    )
    window.delegate.actionRequested.connect(
        lambda ticket_id, _action: sounds.acknowledge(ticket_id)
    )
    return DisplayApp(config, mq_client, sync, model, window, sounds)


def attach_autopilot(display: DisplayApp, seconds: float, *, cook: float = 0.0) -> Autopilot:
    """Burn-in (``--autopilot SECONDS``): act on the oldest card every ``seconds``
    through the same signal a tap on the card's button emits (and, on expo, tap
    PICKED UP on the ready shelf); ``cook``: bump a started card only after this many
    seconds. Not started: call ``.start()``."""
    window = display.window
    shelf = window.stack.ready_shelf
    pilot = Autopilot(
        display.model,
        station=display.config.station,
        is_expo=display.config.is_expo,
        interval=seconds,
        ready=ready_ids(shelf.ready_tickets) if shelf is not None else None,
        paints=PaintCounter(window.view.viewport(), parent=window),
        cook_seconds=cook,
        parent=window,
    )
    pilot.tapRequested.connect(window.delegate.actionRequested)
    if shelf is not None:
        on_shelf = shelf

        def pick_up(ticket_id: str) -> None:
            button = on_shelf.buttons.get(ticket_id)
            if button is not None:
                button.click()

        pilot.pickupRequested.connect(pick_up)
    return pilot


def _tile(text: str) -> tuple[int, int]:
    """``I/N`` as (I, N), 1 <= I <= N."""
    import re

    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise argparse.ArgumentTypeError(f"expected I/N with 1 <= I <= N, e.g. 2/2, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def tile_geometry(available: QRect, index: int, count: int) -> QRect:
    """Column ``index`` (1-based) of ``count`` equal columns of ``available``."""
    left = available.x() + (index - 1) * available.width() // count
    right = available.x() + index * available.width() // count
    return QRect(left, available.y(), right - left, available.height())


def _place(window: MainWindow, frame: QRect) -> None:
    """Put ``window`` with its frame (if a window manager draws one) inside ``frame``."""
    outer, inner = window.frameGeometry(), window.geometry()
    window.setGeometry(
        frame.adjusted(
            inner.left() - outer.left(),
            inner.top() - outer.top(),
            inner.right() - outer.right(),
            inner.bottom() - outer.bottom(),
        )
    )


def _geometry(text: str) -> tuple[int, int, int, int]:
    """``WxH+X+Y`` as (x, y, w, h)."""
    import re

    match = re.fullmatch(r"(\d+)x(\d+)\+(\d+)\+(\d+)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected WxH+X+Y, e.g. 960x1000+0+0, got {text!r}")
    w, h, x, y = (int(g) for g in match.groups())
    return x, y, w, h


def _version_text() -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    return version.describe("kitchen-display", {"PySide6": pyside_version, "Qt": qVersion()})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="kitchen-display",
        description="Kitchen display screen for one station.",
        epilog="kitchen-display set-pin [--print]: set the lead PIN (asks twice, stores a hash)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file (default: /etc/ghost-kds/display.toml when it exists, else "
        f"{first_run.user_config_path()}); none there: the setup screen writes it",
    )
    version.add_version_flag(parser, _version_text)
    parser.add_argument("--station", help="override the config's station (KDS_STATION)")
    parser.add_argument("--display-id", help="override the config's display_id (KDS_DISPLAY_ID)")
    parser.add_argument(
        "--geometry",
        type=_geometry,
        metavar="WxH+X+Y",
        help="window size and position, e.g. 960x1000+960+0 (ignored in fullscreen)",
    )
    parser.add_argument(
        "--tile",
        type=_tile,
        metavar="I/N",
        help="take column I of N equal columns of the screen's available area, e.g. 2/2 "
        "for the right half (ignored in fullscreen and with --geometry)",
    )
    parser.add_argument(
        "--autopilot",
        type=float,
        metavar="SECONDS",
        help="debug, burn-in: every SECONDS act on the oldest card as a cook's tap would "
        "(the card's first button: an allergy or VOID acknowledgement when it asks, "
        "else START, then BUMP; "
        "at expo BUMP once every station is done, and PICKED UP on the ready shelf)",
    )
    parser.add_argument(
        "--autopilot-cook",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="with --autopilot: bump a started card only after it cooked this long (default 0)",
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="the screen's language (overrides [display] language, KDS_DISPLAY_LANGUAGE)",
    )
    parser.add_argument(
        "--view",
        choices=VIEWS,
        help="the view at start: station, expo or board (overrides [display] view)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging level (default INFO)",
    )
    return parser.parse_args(argv)


def load_config(args: argparse.Namespace, path: Path | None = None) -> DisplayConfig:
    """Load the config file (``path``, else ``--config``) with the command line's
    overrides applied."""
    env = dict(os.environ)
    if args.station:
        env["KDS_STATION"] = args.station
    if args.display_id:
        env["KDS_DISPLAY_ID"] = args.display_id
    if args.language:
        env["KDS_DISPLAY_LANGUAGE"] = args.language
    if args.view:
        env["KDS_DISPLAY_VIEW"] = args.view
    return load(DisplayConfig, path or args.config, env=env)


class Launcher:
    """What :func:`main` runs in its Qt application: the display for the config file,
    or, when there is none yet, the first-run setup screen
    (:mod:`kitchen_display.setup_screen`) and the display once it saved one, in the
    same process.

    ``path`` is the config file (:func:`kitchen_display.first_run.config_location`);
    ``setup`` the setup screen while it shows, ``display`` the running display.
    """

    def __init__(self, args: argparse.Namespace, *, sound_player: Player | str | None = "auto"):
        self.args = args
        self.path = first_run.config_location(args.config)
        self.setup: SetupWindow | None = None
        self.display: DisplayApp | None = None
        self.pilot: Autopilot | None = None
        self._sound_player = sound_player

    def start(self) -> int | None:
        """Open the display (or the setup screen); an exit status when it cannot."""
        if not self.path.exists():
            self._open_setup()
            return None
        return self._start_display()

    def _load(self) -> tuple[DisplayConfig | None, MqLike | None, str]:
        """The config and its MQ client, or what is wrong (a secret masked)."""
        try:
            config = load_config(self.args, self.path)
        except ConfigError as exc:
            return None, None, f"{exc.key}: {redact.redact(exc.problem)}"
        except SecretError as exc:
            return None, None, redact.redact(str(exc))

        from shared.mq import mq_client_from_settings

        try:
            mq = mq_client_from_settings(config.mq, name=f"display-{config.display_id}")
        except ConfigError as exc:
            return None, None, f"{exc.key}: {redact.redact(exc.problem)}"
        return config, mq, ""

    def close(self) -> None:
        """Stop the autopilot, then close the display and the setup screen; once (it
        runs on ``aboutToQuit`` and again after the loop, when Qt may have deleted the
        autopilot's timers with their window)."""
        pilot, display, setup = self.pilot, self.display, self.setup
        self.pilot = self.display = self.setup = None
        if pilot is not None:
            pilot.stop()
        if display is not None:
            display.close()
        if setup is not None:
            setup.close()

    def allow_close(self) -> None:
        """Let the display's window close even in kiosk mode (a stop from outside)."""
        if self.display is not None:
            self.display.window.allow_close()

    def _open_setup(self) -> None:
        from kitchen_display.setup_screen import SetupWindow

        i18n.install(self.args.language or i18n.SOURCE_LANGUAGE)
        log.info("no config at %s: opening the setup screen", self.path)
        setup = self.setup = SetupWindow(self.path)
        setup.saved.connect(self._on_saved)
        if self.args.geometry:
            setup.setGeometry(*self.args.geometry)
            setup.show()
        else:
            setup.showMaximized()
        # once the event loop runs: the screen is up and waits for the site admin
        QTimer.singleShot(0, lambda: log.info("setup screen open: waiting for the site admin"))

    def _on_saved(self, path: object) -> None:
        log.info("setup saved %s: starting the display", path)
        if self._start_display() is None and self.setup is not None:
            setup, self.setup = self.setup, None
            setup.close()  # after the display showed: the app does not quit between
            setup.deleteLater()
        # else what was saved does not load: the setup screen stays and says why

    def _start_display(self) -> int | None:
        """Start the display for the file; on a config error print it (and show it on
        the setup screen, if one is open) and return 2."""
        config, mq, problem = self._load()
        if problem:
            print(f"kitchen-display: config error: {problem}", file=sys.stderr)
            if self.setup is not None:
                self.setup.show_problem(problem)
            return 2
        assert config is not None and mq is not None
        args = self.args
        i18n.install(config.display.language)
        if config.display.kiosk and not config.display.lead_pin:
            log.warning(
                "kiosk mode without a lead PIN: set one with kitchen-display set-pin, "
                "or the screen can only be stopped from outside"
            )
        display = self.display = build_display(
            config, mq, sound_player=self._sound_player, config_path=self.path
        )
        if args.autopilot is not None:
            self.pilot = attach_autopilot(display, args.autopilot, cook=args.autopilot_cook)
        log.info(
            "display %s for station %s at site %s (%s)",
            config.display_id,
            config.station,
            config.site_id,
            config.mq.url,
        )
        frame: QRect | None = None
        if not config.display.full_screen:
            if args.geometry:
                display.window.setGeometry(*args.geometry)
            elif args.tile:
                screen = display.window.screen() or QGuiApplication.primaryScreen()
                frame = tile_geometry(screen.availableGeometry(), *args.tile)
                display.window.setGeometry(frame)  # before show: the window manager's hint
        display.start()
        if frame is not None:
            placed = frame
            QTimer.singleShot(0, lambda: _place(display.window, placed))
        if self.pilot is not None:
            self.pilot.start()
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one display until its window is closed (``set-pin``: set the lead PIN);
    return the exit status. Without a config file: the setup screen first."""
    # every secret the screen loads (the broker password, the PIN's hash) is masked in
    # its logs, tracebacks and errors
    redact.install()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["set-pin"]:
        from kitchen_display.lead_pin import set_pin_command

        return set_pin_command(argv[1:])
    if argv[:1] == ["--self-test"]:
        from kitchen_display.self_test import main as self_test

        return self_test()
    args = parse_args(argv)
    if args.autopilot is not None and not args.autopilot > 0:
        print("kitchen-display: --autopilot: SECONDS must be > 0", file=sys.stderr)
        return 2
    logs.setup("kitchen-display", args.log_level, quiet=())
    # Qt Multimedia probes for optional codec libraries at start; say nothing about it.
    QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver=false")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    launcher = Launcher(args)

    # Let Ctrl-C and SIGTERM (systemd stopping the kiosk unit, a session ending,
    # kds-demo) stop the app, kiosk mode or not: a stop from outside is not a cook's
    # close. Python signal handlers only run between Qt events, and then in the middle
    # of whatever Python slot runs; quitting there would close the MQ client under that
    # slot (a tap sent after the close), so quit from the loop. Set before the display
    # starts: a signal while it starts quits as soon as the loop runs.
    def _on_stop_signal(signum: int) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        launcher.allow_close()
        app.quit()

    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda signum, _: QTimer.singleShot(0, lambda: _on_stop_signal(signum)))
    status = launcher.start()
    if status is not None:
        return status
    # first: no autopilot tap once the display closes, then the display
    app.aboutToQuit.connect(launcher.close)

    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    # What start-up built lives as long as the display: out of the collector's sight, a
    # full collection while cooks tap no longer walks it (~49,000 objects: 40 ms of a
    # stalled screen with them, under 1 ms without; gc.collect() on this heap).
    gc.freeze()
    status = app.exec()
    launcher.close()
    return int(status)
