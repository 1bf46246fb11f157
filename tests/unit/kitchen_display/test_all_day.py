"""The board's all-day list (:class:`kitchen_display.all_day.AllDayList`): what it
shows, and that a new set of counts changes only the rows that differ."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QModelIndex
from pytestqt.qtbot import QtBot

from kitchen_display.all_day import AllDayList
from shared.allday import AllDayCount
from tests.unit.kitchen_display.paints import PaintedRects


def count(name: str, qty: int, brands: tuple[str, ...] = ("Burger Bros",)) -> AllDayCount:
    return AllDayCount(
        key=(name.lower(), ()),
        name=name,
        modifiers=(),
        qty=qty,
        tickets=qty,
        brands=brands,
        stations=("grill",),
        skus=(name.lower(),),
    )


def shown(view: AllDayList) -> list[tuple[str, bool, str]]:
    rows = []
    for row in range(view.count()):
        item = view.item(row)
        assert item is not None
        rows.append((item.text(), item.font().bold(), item.toolTip()))
    return rows


def test_headings_bold_counts_plain_brands_in_the_tooltip(qtbot: QtBot) -> None:
    view = AllDayList()
    qtbot.addWidget(view)
    view.show_counts(
        {
            "grill": [count("Classic Burger", 3), count("Fries", 1, ("A", "B"))],
            "fry": [count("Onion Rings", 2)],
        }
    )
    assert shown(view) == [
        ("GRILL", True, ""),
        ("   3× Classic Burger", False, ""),
        ("   1× Fries", False, "A, B"),
        ("FRY", True, ""),
        ("   2× Onion Rings", False, ""),
    ]
    view.show_counts({})
    assert shown(view) == [("nothing to make", False, "")]


def test_a_new_count_changes_its_row_alone(qtbot: QtBot) -> None:
    """One more burger: one row's text changes, the other rows keep their items, and
    the list is neither cleared nor refilled (which laid it out and repainted it whole
    for every order)."""
    view = AllDayList()
    qtbot.addWidget(view)
    view.show_counts({"grill": [count("Classic Burger", 3), count("Fries", 1)]})
    items = [view.item(row) for row in range(view.count())]
    model = view.model()
    changed: list[tuple[int, int]] = []
    structure: list[str] = []

    def on_changed(top: QModelIndex, bottom: QModelIndex, _roles: object = None) -> None:
        changed.append((top.row(), bottom.row()))

    model.dataChanged.connect(on_changed)
    for signal in ("rowsInserted", "rowsRemoved", "modelReset", "layoutChanged"):
        getattr(model, signal).connect(lambda *_a, name=signal: structure.append(name))
    view.show_counts({"grill": [count("Classic Burger", 4), count("Fries", 1)]})
    assert shown(view)[1] == ("   4× Classic Burger", False, "")
    assert [view.item(row) for row in range(view.count())] == items
    assert changed == [(1, 1)]
    assert structure == []

    # a row fewer, then one more: taken and added at the end
    view.show_counts({"grill": [count("Classic Burger", 4)]})
    assert shown(view) == [("GRILL", True, ""), ("   4× Classic Burger", False, "")]
    assert view.item(0) is items[0] and view.item(1) is items[1]
    view.show_counts({"grill": [count("Classic Burger", 4)], "fry": [count("Fries", 2)]})
    assert shown(view)[2:] == [("FRY", True, ""), ("   2× Fries", False, "")]
    assert structure == ["rowsRemoved", "rowsInserted", "rowsInserted"]


def test_the_same_counts_again_change_nothing(qtbot: QtBot) -> None:
    view = AllDayList()
    qtbot.addWidget(view)
    counts = {"grill": [count("Classic Burger", 3)]}
    view.show_counts(counts)
    changed: list[object] = []
    view.model().dataChanged.connect(lambda *a: changed.append(a))
    view.show_counts({"grill": [count("Classic Burger", 3)]})
    assert changed == []


def test_a_new_count_repaints_its_row_alone(qtbot: QtBot) -> None:
    """On screen: one more burger repaints that row (``QListView`` repainted the whole
    list for any row's change); a name too long for the list is elided, never a
    horizontal scroll bar."""
    view = AllDayList()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show_counts({"grill": [count("Classic Burger", 3), count("Fries", 1)]})
    painted = PaintedRects(view.viewport()).rects
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: bool(painted))  # the first paint, whole
    # (and nothing more pending: a relayout still due would repaint the list whole)
    QCoreApplication.sendPostedEvents()
    QCoreApplication.processEvents()
    painted.clear()
    row = view.visualRect(view.model().index(1, 0))
    view.show_counts({"grill": [count("Classic Burger", 4), count("Fries", 1)]})
    qtbot.waitUntil(lambda: bool(painted))
    assert all(row.contains(rect) for rect in painted), (row, painted)

    view.show_counts({"grill": [count("Classic Burger " + "with everything " * 20, 4)]})
    assert view.horizontalScrollBar().maximum() == 0
    assert view.visualRect(view.model().index(1, 0)).width() <= view.viewport().width()
