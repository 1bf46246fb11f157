"""The screen's language (``[display] language``, ``--language``).

Every user-facing string in ``kitchen_display`` goes through Qt's ``tr()``
(``self.tr`` in a QObject, or :func:`translate` with a context). The compiled
catalogues live in ``kitchen_display/translations/kds_<lang>.qm``; regenerate them
with ``scripts/translations`` (pyside6-lupdate, then pyside6-lrelease).

One translator is installed per process (:func:`install`); installing another
language replaces it, ``"en"`` (the source language) removes it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTranslator

log = logging.getLogger("kds.ui")

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
SOURCE_LANGUAGE = "en"

_installed: QTranslator | None = None
_language = SOURCE_LANGUAGE


def translate(context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """``QCoreApplication.translate`` (for code outside a QObject)."""
    return QCoreApplication.translate(context, text, disambiguation, n)


def current_language() -> str:
    return _language


def install(language: str) -> bool:
    """Make ``language`` the process's language; False if it has no catalogue.

    Call before building windows: texts already on screen are not retranslated.
    """
    global _installed, _language
    app = QCoreApplication.instance()
    if _installed is not None:
        if app is not None:
            QCoreApplication.removeTranslator(_installed)
        _installed = None
    _language = SOURCE_LANGUAGE
    if language == SOURCE_LANGUAGE:
        return True
    translator = QTranslator()
    if not translator.load(f"kds_{language}", str(TRANSLATIONS_DIR)):
        log.warning("no translation for language %r in %s", language, TRANSLATIONS_DIR)
        return False
    if app is None:
        raise RuntimeError("create the QApplication before installing a translator")
    QCoreApplication.installTranslator(translator)
    _installed = translator
    _language = language
    log.info("language: %s", language)
    return True
