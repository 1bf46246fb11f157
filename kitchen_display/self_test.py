"""``kitchen-display --self-test``: can this machine (and this build) run a display?

Needs no config. Prints one line per check (``PASS name: detail`` or ``FAIL name:
detail``) and returns 0 when every check passed, 1 otherwise:

* ``platform``: the Qt platform plugin that loaded (xcb, wayland, offscreen);
* ``render``: a window with a sample ticket, built through the real
  :class:`~kitchen_display.ticket_model.TicketListModel` and
  :class:`~kitchen_display.card_delegate.TicketCardDelegate`, paints non-blank pixels;
* ``translation``: the project's Dutch catalogue (``kds_nl.qm``) loads and translates;
* ``fonts``: the font database has families;
* ``sound``: ``QSoundEffect`` loads the new-ticket WAV, reports playing, then finishes,
  within a deadline (``FAIL sound: no audio output: ...`` when there is none).

The frozen builds' smoke test (``scripts/smoke``) runs it on offscreen and on xcb.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLoggingCategory, QTranslator, QUrl
from PySide6.QtGui import QFontDatabase, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from kitchen_display import i18n, sound
from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.card_wall import card_wall
from kitchen_display.config import DisplaySettings
from kitchen_display.ticket_model import TicketListModel
from shared.model import Ticket

log = logging.getLogger("kds.self_test")

#: how long the new-ticket cue may take to load, start and finish
SOUND_DEADLINE_SECONDS = 10.0
#: a string the Dutch catalogue translates (context, source)
_PROBE = ("AllDayList", "nothing to make")


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def sample_ticket() -> Ticket:
    placed = datetime.now(UTC) - timedelta(minutes=2)
    return Ticket.model_validate(
        {
            "id": "self-test-1",
            "version": 1,
            "site_id": "self-test",
            "brand": {"id": "b_self_test", "name": "Self Test"},
            "channel": "ubereats",
            "display_number": "A-1",
            "placed_at": placed.isoformat(),
            "priority": "normal",
            "customer": {"name": ""},
            "notes": "",
            "items": [
                {"line_id": "l1", "sku": "burger", "qty": 2, "station": "grill", "name": "Burger"}
            ],
            "status": "accepted",
        }
    )


def _wait(app: QCoreApplication, until: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until():
            return True
        time.sleep(0.01)
    return until()


def check_platform() -> Result:
    name = QGuiApplication.platformName()
    return Result("platform", bool(name), f"Qt platform plugin {name!r} loaded")


def check_render(app: QCoreApplication) -> Result:
    model = TicketListModel("grill", is_expo=False, settings=DisplaySettings())
    model.upsert(sample_ticket())
    delegate = TicketCardDelegate("grill", is_expo=False)
    view = card_wall(model, delegate, name="self-test", scale=1.0)
    view.resize(800, 600)
    view.show()
    _wait(app, view.isVisible, 2.0)
    app.processEvents()
    image = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    view.close()
    view.deleteLater()
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)
    }
    ok = model.rowCount() == 1 and len(colours) > 2
    detail = f"1 ticket card on {image.width()}x{image.height()}, {len(colours)} colours"
    return Result("render", ok, detail if ok else f"blank: {detail}")


def check_translation() -> Result:
    translator = QTranslator()
    if not translator.load("kds_nl", str(i18n.TRANSLATIONS_DIR)):
        return Result("translation", False, f"kds_nl.qm does not load from {i18n.TRANSLATIONS_DIR}")
    text = translator.translate(*_PROBE)
    ok = bool(text) and text != _PROBE[1]
    return Result("translation", ok, f"nl: {_PROBE[1]!r} -> {text!r}")


def check_fonts() -> Result:
    families = QFontDatabase.families()
    default = QGuiApplication.font().family()
    if not families:
        return Result("fonts", False, "no font families found (install fonts-dejavu-core)")
    return Result("fonts", True, f"{len(families)} families, default {default!r}")


def check_sound(app: QCoreApplication, directory: Path) -> Result:
    try:
        from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
    except ImportError as exc:
        return Result("sound", False, f"Qt Multimedia is not available: {exc}")
    output = QMediaDevices.defaultAudioOutput()
    if output.isNull():
        server = "an audio server" if sound.audio_server_available() else "no audio server"
        return Result("sound", False, f"no audio output: Qt sees no output device ({server} found)")
    path = sound.ensure_sound_files(directory)[sound.SoundKind.NEW]
    effect = QSoundEffect()
    effect.setAudioDevice(output)
    effect.setSource(QUrl.fromLocalFile(str(path)))
    deadline = time.monotonic() + SOUND_DEADLINE_SECONDS
    finished = {QSoundEffect.Status.Ready, QSoundEffect.Status.Error}
    if not _wait(app, lambda: effect.status() in finished, SOUND_DEADLINE_SECONDS):
        return Result("sound", False, f"{path.name} did not load within the deadline")
    if effect.status() is QSoundEffect.Status.Error:
        return Result("sound", False, f"{path.name} failed to load")
    effect.play()
    started = time.monotonic()
    if not _wait(app, effect.isPlaying, deadline - time.monotonic()):
        return Result(
            "sound", False, f"{path.name} never started playing on {output.description()!r}"
        )
    if not _wait(app, lambda: not effect.isPlaying(), deadline - time.monotonic()):
        return Result("sound", False, f"{path.name} did not finish within the deadline")
    seconds = time.monotonic() - started
    return Result(
        "sound", True, f"{path.name} played on {output.description()!r} ({seconds:.2f} s)"
    )


def run_checks(app: QCoreApplication) -> list[Result]:
    results = [check_platform(), check_render(app), check_translation(), check_fonts()]
    with tempfile.TemporaryDirectory(prefix="kds-self-test-") as tmp:
        results.append(check_sound(app, Path(tmp)))
    return results


def main() -> int:
    """Run every check, print a line each; 0 if all passed, 1 otherwise."""
    # Qt Multimedia probes for optional codec libraries at start; say nothing about it.
    QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver=false")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    results = run_checks(app)
    for result in results:
        print(result.line(), flush=True)
    return 0 if all(result.ok for result in results) else 1
