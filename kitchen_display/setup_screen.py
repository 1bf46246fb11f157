"""The first-run setup screen, for a touch screen with no keyboard.

Left: the fields (site id, station as big buttons, display id, broker address, port,
TLS, broker user, password); right: the on-screen :class:`~kitchen_display.keypad.Keypad`
typing into the field tapped last (numeric for the address and port, letters for the
rest). Below: one line of large text saying what the last check or connection test
found, and TEST CONNECTION, SAVE AND START and QUIT.

The logic is :class:`~kitchen_display.first_run.SetupForm` (values, checks, the file's
text) and :class:`~kitchen_display.first_run.ConnectionTest` (off the GUI thread);
this window shows them. ``saved(path)`` after SAVE AND START wrote the config and the
keyring; the caller starts the display.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kitchen_display import theme as themes
from kitchen_display.first_run import (
    DEFAULT_PORT,
    DEFAULT_TLS_PORT,
    STATIONS,
    ConnectionTest,
    SetupForm,
    save,
    suggested_display_id,
    suggested_user,
)
from kitchen_display.keypad import NUMERIC, TEXT, Keypad
from kitchen_display.probe import ProbeResult
from kitchen_display.widgets import font
from shared.errors import SecretError

log = logging.getLogger("kds.setup")

#: the fields that are typed, in order, and the keypad page each starts on
TEXT_FIELDS: tuple[tuple[str, str], ...] = (
    ("site_id", TEXT),
    ("display_id", TEXT),
    ("host", NUMERIC),
    ("port", NUMERIC),
    ("user", TEXT),
    ("password", TEXT),
)


def setup_stylesheet(theme: themes.Theme, scale: float) -> str:
    def px(value: float) -> str:
        return f"{max(1, round(value * scale))}px"

    return f"""
QWidget#setup {{ background: {theme.window}; }}
QLabel#setupTitle {{ color: {theme.text}; }}
QLabel#fieldLabel {{ color: {theme.dim}; }}
QLineEdit {{ background: {theme.header}; color: {theme.text};
    border: {px(2)} solid {theme.header_border}; padding: {px(6)}; }}
QLineEdit[current="true"] {{ border: {px(4)} solid {theme.highlight}; }}
QLineEdit[invalid="true"] {{ border: {px(4)} solid {theme.offline}; }}
QPushButton {{ background: {theme.button}; color: {theme.text};
    border: {px(2)} solid {theme.header_border}; padding: {px(6)} {px(12)}; }}
QPushButton:checked {{ background: {theme.highlight}; color: {theme.highlight_text}; }}
QPushButton:disabled {{ color: {theme.dim}; }}
QPushButton#saveButton {{ background: {theme.colors.bump_button}; color: #ffffff; }}
QPushButton#testButton {{ background: {theme.colors.start_button}; color: #ffffff; }}
QWidget#stationButtons[invalid="true"] {{ border: {px(4)} solid {theme.offline}; }}
QLabel#setupStatus {{ background: {theme.header}; color: {theme.text}; padding: {px(10)}; }}
QLabel#setupStatus[state="ok"] {{ background: {theme.colors.bump_button}; color: #ffffff; }}
QLabel#setupStatus[state="error"] {{ background: {theme.banner_bg}; color: {theme.banner_text}; }}
QLabel#setupStatus[state="busy"] {{ background: {theme.message_bg}; color: {theme.message_text}; }}
"""


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class SetupWindow(QWidget):
    """The setup screen (see the module). ``path``: where SAVE AND START writes.

    ``edits[field]`` are the line edits, ``station_buttons[station]`` the station
    choices, ``keypad`` the keypad, ``status`` the large result line.
    """

    saved = Signal(Path)

    def __init__(
        self,
        path: Path,
        *,
        scale: float = 1.0,
        theme: str = "dark",
        answer_seconds: float | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("setup")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.path = path
        self.form = SetupForm(self)
        self.test = ConnectionTest(parent=self)
        if answer_seconds is not None:
            self.test.answer_seconds = answer_seconds
        self._scale = scale
        look = themes.theme_for(theme)
        self.setPalette(look.palette())
        self.setStyleSheet(look.stylesheet(scale) + setup_stylesheet(look, scale))
        self.setWindowTitle(self.tr("Set up this kitchen screen"))
        touch = self._touch = themes.min_touch_px()
        self._edited: set[str] = set()
        self._current = ""

        outer = QVBoxLayout(self)
        margin = round(16 * scale)
        outer.setContentsMargins(margin, margin, margin, margin)
        outer.setSpacing(round(12 * scale))
        title = QLabel(self.tr("Set up this kitchen screen"), self)
        title.setObjectName("setupTitle")
        title.setFont(font(30, scale, bold=True))
        outer.addWidget(title)

        columns = QHBoxLayout()
        columns.setSpacing(round(24 * scale))
        outer.addLayout(columns, 1)
        form = QGridLayout()
        form.setHorizontalSpacing(round(12 * scale))
        form.setVerticalSpacing(round(10 * scale))
        columns.addLayout(form, 3)

        labels = self.form.labels()
        self.edits: dict[str, QLineEdit] = {}
        for name, _page in TEXT_FIELDS:
            edit = QLineEdit(self)
            edit.setObjectName(f"edit-{name}")
            edit.setFont(font(22, scale))
            edit.setMinimumHeight(touch)
            # our keypad types; no system keyboard over the screen
            edit.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
            edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            edit.installEventFilter(self)
            edit.textChanged.connect(lambda _text, n=name: self._on_text_changed(n))
            edit.textEdited.connect(lambda _text, n=name: self._edited.add(n))
            self.edits[name] = edit
        example = self.tr("for example {example}")
        self.edits["site_id"].setPlaceholderText(example.format(example="ams-01"))
        self.edits["display_id"].setPlaceholderText(example.format(example="grill-1"))
        self.edits["host"].setPlaceholderText(example.format(example="10.0.0.5"))
        self.edits["port"].setText(str(DEFAULT_PORT))
        self.edits["port"].setMaximumWidth(round(150 * scale))
        self.edits["user"].setPlaceholderText(example.format(example="kds-ams-01-grill-1"))
        self.edits["password"].setEchoMode(QLineEdit.EchoMode.Password)

        def label(name: str) -> QLabel:
            widget = QLabel(labels[name], self)
            widget.setObjectName("fieldLabel")
            widget.setFont(font(18, scale, bold=True))
            return widget

        row = 0
        form.addWidget(label("site_id"), row, 0)
        form.addWidget(self.edits["site_id"], row, 1)
        row += 1
        self.station_box = QWidget(self)
        self.station_box.setObjectName("stationButtons")
        stations = QGridLayout(self.station_box)
        stations.setContentsMargins(0, 0, 0, 0)
        stations.setSpacing(round(8 * scale))
        self.station_group = QButtonGroup(self)
        self.station_group.setExclusive(True)
        self.station_buttons: dict[str, QPushButton] = {}
        names = self._station_names()
        for index, (station, _view, _display) in enumerate(STATIONS):
            button = QPushButton(names[station], self.station_box)
            button.setObjectName(f"station-{station}")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(touch)
            button.setFont(font(18, scale, bold=True))
            button.clicked.connect(lambda _checked=False, s=station: self._on_station(s))
            self.station_group.addButton(button)
            stations.addWidget(button, index // 3, index % 3)
            self.station_buttons[station] = button
        form.addWidget(label("station"), row, 0)
        form.addWidget(self.station_box, row, 1)
        row += 1
        form.addWidget(label("display_id"), row, 0)
        form.addWidget(self.edits["display_id"], row, 1)
        row += 1
        broker = QHBoxLayout()
        broker.setSpacing(round(8 * scale))
        broker.addWidget(self.edits["host"], 1)
        colon = QLabel(":", self)
        colon.setFont(font(22, scale, bold=True))
        broker.addWidget(colon)
        broker.addWidget(self.edits["port"])
        self.tls_button = QPushButton(self.tr("TLS"), self)
        self.tls_button.setObjectName("tlsButton")
        self.tls_button.setCheckable(True)
        self.tls_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tls_button.setMinimumSize(touch + touch // 2, touch)
        self.tls_button.setFont(font(18, scale, bold=True))
        self.tls_button.setToolTip(self.tr("stomp+ssl:// (Amazon MQ: port 61614)"))
        self.tls_button.toggled.connect(self._on_tls)
        broker.addWidget(self.tls_button)
        form.addWidget(label("host"), row, 0)
        form.addLayout(broker, row, 1)
        row += 1
        form.addWidget(label("user"), row, 0)
        form.addWidget(self.edits["user"], row, 1)
        row += 1
        password = QHBoxLayout()
        password.setSpacing(round(8 * scale))
        password.addWidget(self.edits["password"], 1)
        self.show_password = QPushButton(self.tr("SHOW"), self)
        self.show_password.setObjectName("showPassword")
        self.show_password.setCheckable(True)
        self.show_password.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.show_password.setMinimumSize(touch + touch // 2, touch)
        self.show_password.setFont(font(18, scale, bold=True))
        self.show_password.toggled.connect(self._on_show_password)
        password.addWidget(self.show_password)
        form.addWidget(label("password"), row, 0)
        form.addLayout(password, row, 1)
        row += 1
        form.setRowStretch(row, 1)
        form.setColumnStretch(1, 1)

        pad_column = QVBoxLayout()
        pad_column.setSpacing(round(8 * scale))
        self.typing_label = QLabel(self)
        self.typing_label.setObjectName("fieldLabel")
        self.typing_label.setFont(font(18, scale, bold=True))
        pad_column.addWidget(self.typing_label)
        self.keypad = Keypad(touch, scale=scale, parent=self)
        self.keypad.typed.connect(self._on_keypad_typed)
        pad_column.addWidget(self.keypad, 1)
        columns.addLayout(pad_column, 2)

        self.status = QLabel(self)
        self.status.setObjectName("setupStatus")
        self.status.setFont(font(24, scale, bold=True))
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(round(2.2 * touch))
        outer.addWidget(self.status)

        buttons = QHBoxLayout()
        buttons.setSpacing(round(16 * scale))
        self.test_button = self._action(self.tr("TEST CONNECTION"), "testButton")
        self.save_button = self._action(self.tr("SAVE AND START"), "saveButton")
        self.quit_button = self._action(self.tr("QUIT"), "quitButton")
        buttons.addWidget(self.test_button, 2)
        buttons.addWidget(self.save_button, 2)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button, 1)
        outer.addLayout(buttons)
        self.test_button.clicked.connect(self._on_test_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.quit_button.clicked.connect(self.close)
        self.test.testStarted.connect(self._on_test_started)
        self.test.testFinished.connect(self._on_test_finished)

        self._say(
            self.tr("No configuration yet: fill in the fields, test the connection, then save."),
            "",
        )
        self.select_field("site_id")
        self.resize(1280, 800)

    def _action(self, text: str, name: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setMinimumHeight(round(1.4 * self._touch))
        button.setFont(font(22, self._scale, bold=True))
        return button

    def _station_names(self) -> dict[str, str]:
        return {
            "grill": self.tr("GRILL"),
            "fry": self.tr("FRY"),
            "cold": self.tr("COLD"),
            "bar": self.tr("BAR"),
            "expo": self.tr("EXPO"),
            "lead": self.tr("LEAD (BOARD)"),
        }

    # --- public -------------------------------------------------------------------------

    def select_field(self, name: str) -> None:
        """Make ``name`` the field the keypad types into (what a tap on it does)."""
        page = dict(TEXT_FIELDS)[name]
        self._current = name
        for field, edit in self.edits.items():
            edit.setProperty("current", field == name)
            _restyle(edit)
        self.keypad.attach(self.edits[name], page)
        self.typing_label.setText(self.tr("Typing: {field}").format(field=self.form.labels()[name]))

    def collect(self) -> None:
        """Copy the fields into the form's values."""
        self.form.values = dataclasses.replace(
            self.form.values,
            site_id=self.edits["site_id"].text(),
            display_id=self.edits["display_id"].text(),
            host=self.edits["host"].text(),
            port=self.edits["port"].text(),
            tls=self.tls_button.isChecked(),
            user=self.edits["user"].text(),
            password=self.edits["password"].text(),
        )

    def check(self) -> bool:
        """Check the fields; show and mark what is wrong. Whether all is well."""
        self.collect()
        problems = self.form.field_problems()
        for name, edit in self.edits.items():
            edit.setProperty("invalid", name in problems)
            _restyle(edit)
        self.station_box.setProperty("invalid", "station" in problems)
        _restyle(self.station_box)
        if problems:
            self._say("\n".join(self.form.problems()), "error")
            return False
        return True

    def show_problem(self, problem: str) -> None:
        """What was saved does not load (an environment override, say): show why."""
        self._say(
            self.tr("Saved, but the display cannot start: {problem}").format(problem=problem),
            "error",
        )

    # --- events -------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.FocusIn):
            for name, edit in self.edits.items():
                if watched is edit and name != self._current:
                    self.select_field(name)
        return super().eventFilter(watched, event)

    # --- slots --------------------------------------------------------------------------

    def _say(self, text: str, state: str) -> None:
        self.status.setText(text)
        self.status.setProperty("state", state)
        _restyle(self.status)

    @Slot(str)
    def _on_keypad_typed(self, _text: str) -> None:
        self._edited.add(self._current)

    def _on_text_changed(self, name: str) -> None:
        edit = self.edits[name]
        if edit.property("invalid"):
            edit.setProperty("invalid", False)
            _restyle(edit)
        if name in ("site_id", "display_id"):
            self._suggest_user()

    def _on_station(self, station: str) -> None:
        self.form.values = dataclasses.replace(self.form.values, station=station)
        self.station_box.setProperty("invalid", False)
        _restyle(self.station_box)
        if "display_id" not in self._edited or not self.edits["display_id"].text():
            self.edits["display_id"].setText(suggested_display_id(station))
            self._edited.discard("display_id")
        log.info("setup: station %s", station)

    def _suggest_user(self) -> None:
        if "user" in self._edited and self.edits["user"].text():
            return
        self.edits["user"].setText(
            suggested_user(
                self.edits["site_id"].text().strip(), self.edits["display_id"].text().strip()
            )
        )
        self._edited.discard("user")

    @Slot(bool)
    def _on_tls(self, on: bool) -> None:
        if "port" not in self._edited:
            self.edits["port"].setText(str(DEFAULT_TLS_PORT if on else DEFAULT_PORT))
            self._edited.discard("port")

    @Slot(bool)
    def _on_show_password(self, shown: bool) -> None:
        self.edits["password"].setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        self.show_password.setText(self.tr("HIDE") if shown else self.tr("SHOW"))

    @Slot()
    def _on_test_clicked(self) -> None:
        if self.test.running or not self.check():
            return
        self.test.start(self.form.values)

    @Slot()
    def _on_test_started(self) -> None:
        self.test_button.setEnabled(False)
        self.save_button.setEnabled(False)
        values = self.form.values
        self._say(
            self.tr("Testing the connection to {where}…").format(
                where=f"{values.host.strip()}:{values.port.strip()}"
            ),
            "busy",
        )

    @Slot(ProbeResult)
    def _on_test_finished(self, result: ProbeResult) -> None:
        self.test_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self._say(self.test.describe(result), "ok" if result.ok else "error")

    @Slot()
    def _on_save_clicked(self) -> None:
        if self.test.running or not self.check():
            return
        try:
            save(self.form, self.path)
        except SecretError as exc:
            log.error("setup: the password was not stored: %s", exc)
            self._say(
                self.tr("The password cannot be stored in the keyring: {error}").format(
                    error=str(exc)
                ),
                "error",
            )
            return
        except OSError as exc:
            log.error("setup: cannot write %s: %s", self.path, exc)
            self._say(
                self.tr("Cannot write {path}: {error}").format(
                    path=str(self.path), error=exc.strerror or str(exc)
                ),
                "error",
            )
            return
        self._say(
            self.tr("Saved to {path}: starting the display…").format(path=str(self.path)), "ok"
        )
        self.saved.emit(self.path)
