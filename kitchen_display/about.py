"""The about box (the display id button in the header): which release and build runs, on which Qt,
for which site, station and screen, from which config file, on which broker (never a
secret), and where its log goes. A site admin reads it out on the phone to support.

:class:`AboutDialog` shows it (``rows()``) in large text with one big CLOSE button.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QVBoxLayout, QWidget

from kitchen_display.config import DisplayConfig
from kitchen_display.theme import min_touch_px
from kitchen_display.widgets import big_button, font
from shared import version
from shared.errors import ConfigError
from shared.mq import MqUrl


def broker_url(config: DisplayConfig) -> str:
    """The broker's URL as ``scheme://host:port``: no user or password in it."""
    try:
        url = MqUrl.parse(config.mq.url)
    except ConfigError:
        return "?"
    scheme = "stomp+ssl" if url.tls else "stomp"
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{scheme}://{host}:{url.port}"


def log_file() -> str | None:
    """The log file this process writes, if it writes one."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return None


def logs_to_journal() -> bool:
    """Whether systemd runs this process (its standard error goes to the journal)."""
    return bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))


class AboutDialog(QDialog):
    """What runs where (:meth:`rows`) as a two-column table in large text, and CLOSE."""

    def __init__(
        self,
        config: DisplayConfig,
        config_path: Path | None,
        *,
        scale: float = 1.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._config = config
        self._config_path = config_path
        rows = self.rows()
        self.setObjectName("about")
        self.setWindowTitle(self.tr("About this screen"))
        touch = min_touch_px(parent.screen() if parent is not None else None)
        layout = QVBoxLayout(self)
        margin = round(20 * scale)
        layout.setContentsMargins(margin, margin, margin, margin)
        layout.setSpacing(round(14 * scale))
        title = QLabel(self.tr("ghost-kds kitchen display"), self)
        title.setFont(font(26, scale, bold=True))
        layout.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(round(20 * scale))
        grid.setVerticalSpacing(round(8 * scale))
        self.values: dict[str, QLabel] = {}
        for row, (label, value) in enumerate(rows):
            name = QLabel(label, self)
            name.setObjectName("dim")
            name.setFont(font(18, scale, bold=True))
            text = QLabel(value, self)
            text.setFont(font(20, scale))
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, row, 1)
            self.values[label] = text
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        self.close_button = big_button(self.tr("CLOSE"), self, round(1.2 * touch), "closeAbout")
        self.close_button.setFont(font(22, scale, bold=True))
        self.close_button.clicked.connect(self.accept)
        layout.addWidget(self.close_button)
        self.resize(round(760 * scale), round(560 * scale))

    def texts(self) -> dict[str, str]:
        """label -> the value shown."""
        return {label: widget.text() for label, widget in self.values.items()}

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) for each line."""
        config = self._config
        broker = broker_url(config)
        if config.mq.user:
            broker += " " + self.tr("(user {user})").format(user=config.mq.user)
        path = self._config_path
        return [
            (self.tr("Release"), version.VERSION),
            (self.tr("Build"), version.build()),
            (self.tr("PySide6 / Qt"), f"{pyside_version} / {qVersion()}"),
            (self.tr("Site"), config.site_id),
            (self.tr("Station"), config.station),
            (self.tr("Display id"), config.display_id),
            (self.tr("Config file"), str(path) if path else self.tr("none (environment only)")),
            (self.tr("Broker"), broker),
            (self.tr("Log"), self._log_text()),
        ]

    def _log_text(self) -> str:
        path = log_file()
        if path is not None:
            return path
        if logs_to_journal():
            return self.tr("the systemd journal (journalctl)")
        return self.tr("standard error (the terminal or service that started it)")
