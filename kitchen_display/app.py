"""Composition root of the kitchen display: ``kitchen-display --config FILE``.

:func:`build_display` wires one screen (sync, model, window) around an MQ client
and is what tests use to run several displays in one process;
:func:`main` is the command line entry point.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QLoggingCategory, QTimer
from PySide6.QtWidgets import QApplication, QListView

from kitchen_display import i18n
from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.config import LANGUAGES, VIEWS, DisplayConfig
from kitchen_display.sound import Escalator, Player, SoundBoard, TicketSounds
from kitchen_display.sync import MqLike, TicketSync
from kitchen_display.ticket_model import Role, TicketListModel
from kitchen_display.views import LeadViews
from kitchen_display.window import MainWindow
from shared.config import load
from shared.errors import ConfigError, SecretError

log = logging.getLogger("kds.ui")


class DisplayApp:
    """One running kitchen screen.

    Attributes: ``config``, ``mq`` (the client given to :func:`build_display`),
    ``sync`` (:class:`TicketSync`), ``model`` (:class:`TicketListModel`),
    ``window`` (:class:`MainWindow`), ``view`` (its ``QListView``),
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
    def view(self) -> QListView:
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
) -> DisplayApp:
    """Wire a display around ``mq_client`` (not started: call ``.start()``).

    ``sound_player``: ``"auto"`` plays through Qt Multimedia when the machine can,
    ``None`` keeps it silent (cues are still recorded in ``app.sounds.board.played``).
    The screen's texts are in the language installed with
    :func:`kitchen_display.i18n.install` (``main`` installs ``display.language``).
    """
    sync = TicketSync(config, mq_client)
    model = TicketListModel(config.station, is_expo=config.is_expo, settings=config.display)
    sync.ticketUpserted.connect(model.upsert)
    sync.ticketRemoved.connect(model.remove)
    sync.ticketsReset.connect(model.reset)
    window = MainWindow(config, sync, model)
    LeadViews(window, sync, config)  # views (station/expo/board), all-day, recall, undo
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


def _geometry(text: str) -> tuple[int, int, int, int]:
    """``WxH+X+Y`` as (x, y, w, h)."""
    import re

    match = re.fullmatch(r"(\d+)x(\d+)\+(\d+)\+(\d+)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected WxH+X+Y, e.g. 960x1000+0+0, got {text!r}")
    w, h, x, y = (int(g) for g in match.groups())
    return x, y, w, h


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="kitchen-display", description="Kitchen display screen for one station."
    )
    parser.add_argument("--config", required=True, metavar="FILE", help="TOML config file")
    parser.add_argument("--station", help="override the config's station (KDS_STATION)")
    parser.add_argument("--display-id", help="override the config's display_id (KDS_DISPLAY_ID)")
    parser.add_argument(
        "--geometry",
        type=_geometry,
        metavar="WxH+X+Y",
        help="window size and position, e.g. 960x1000+960+0 (ignored in fullscreen)",
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


def load_config(args: argparse.Namespace) -> DisplayConfig:
    """Load the config file with the command line's overrides applied."""
    env = dict(os.environ)
    if args.station:
        env["KDS_STATION"] = args.station
    if args.display_id:
        env["KDS_DISPLAY_ID"] = args.display_id
    if getattr(args, "language", None):
        env["KDS_DISPLAY_LANGUAGE"] = args.language
    if getattr(args, "view", None):
        env["KDS_DISPLAY_VIEW"] = args.view
    return load(DisplayConfig, args.config, env=env)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one display until its window is closed; return the exit status."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args)
    except ConfigError as exc:
        print(f"kitchen-display: config error: {exc.key}: {exc.problem}", file=sys.stderr)
        return 2
    except SecretError as exc:
        print(f"kitchen-display: config error: {exc}", file=sys.stderr)
        return 2

    from shared.mq import MqClient

    try:
        mq = MqClient(
            config.mq.url,
            user=config.mq.user or None,
            password=config.mq.password.reveal() or None,
            heartbeat_ms=config.mq.heartbeat_ms,
            vhost=config.mq.vhost or None,
            backoff_max=config.mq.reconnect_max_seconds,
            client_id=None,
            name=f"display-{config.display_id}",
        )
    except ConfigError as exc:
        print(f"kitchen-display: config error: {exc.key}: {exc.problem}", file=sys.stderr)
        return 2

    # Qt Multimedia probes for optional codec libraries at start; say nothing about it.
    QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver=false")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    i18n.install(config.display.language)
    if config.display.kiosk and not config.display.lead_pin:
        log.warning(
            "kiosk mode without a lead PIN: set KDS_DISPLAY_LEAD_PIN or the keyring's "
            "display.lead_pin, or the screen can only be stopped from outside"
        )
    display = build_display(config, mq)
    app.aboutToQuit.connect(display.close)
    # Let Ctrl-C stop the app: Python signal handlers only run between Qt events.
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    log.info(
        "display %s for station %s at site %s (%s)",
        config.display_id,
        config.station,
        config.site_id,
        config.mq.url,
    )
    display.start()
    if args.geometry and not config.display.full_screen:
        display.window.setGeometry(*args.geometry)
    status = app.exec()
    display.close()
    return int(status)
