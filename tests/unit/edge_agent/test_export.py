"""export(): ticket timings from the lifecycle table, as CSV and as a Tableau .hyper file."""

from __future__ import annotations

import csv
import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge_agent.export import (
    ALLERGY_COLUMNS,
    STATION_COLUMNS,
    TABLEAU_HINT,
    TICKET_COLUMNS,
    ExportError,
    build_tables,
    export,
)
from edge_agent.store import Store

SINCE = datetime(2026, 11, 24, tzinfo=UTC)
HAVE_HYPER = importlib.util.find_spec("tableauhyperapi") is not None


def _fill(store: Store) -> None:
    def life(n: int, ticket: str, kind: str, at: str, **kw: object) -> None:
        store.add_lifecycle(
            f"e{n}",
            ticket,
            kind,
            at,
            brand="burger-bros",
            channel="ubereats",
            **kw,  # type: ignore[arg-type]
        )

    # t-old: entirely before --since: not exported
    life(1, "t-old", "received", "2026-11-23T23:00:00.000Z", seconds_since_received=0.0)
    life(2, "t-old", "ready", "2026-11-23T23:10:00.000Z", seconds_since_received=600.0)
    # t1: the whole life, two stations, recalled once
    life(3, "t1", "received", "2026-11-24T12:00:00.000Z", seconds_since_received=0.0)
    life(4, "t1", "started", "2026-11-24T12:00:30.000Z", seconds_since_received=30.0)
    life(
        5,
        "t1",
        "station_bumped",
        "2026-11-24T12:05:00.000Z",
        station="grill",
        seconds_since_received=300.0,
    )
    life(
        6,
        "t1",
        "station_bumped",
        "2026-11-24T12:06:00.000Z",
        station="fry",
        seconds_since_received=360.0,
    )
    life(
        16,
        "t1",
        "allergy_seen",
        "2026-11-24T12:00:10.000Z",
        station="grill",
        actor="grill-2",
        seconds_since_received=10.0,
    )
    life(7, "t1", "ready", "2026-11-24T12:07:00.000Z", seconds_since_received=420.0)
    life(
        8,
        "t1",
        "recalled",
        "2026-11-24T12:07:30.000Z",
        station="expo",
        seconds_since_received=450.0,
    )
    life(9, "t1", "ready", "2026-11-24T12:08:00.000Z", seconds_since_received=480.0)
    life(10, "t1", "picked_up", "2026-11-24T12:12:00.500Z", seconds_since_received=720.5)
    # t2: received before --since, ready after: received_at is not exported, but the
    # agent measured seconds_since_received on the ready event
    life(11, "t2", "received", "2026-11-23T23:59:00.000Z", seconds_since_received=0.0)
    life(12, "t2", "ready", "2026-11-24T00:04:00.000Z", seconds_since_received=300.0)
    # t3: cancelled, and an event without seconds_since_received: computed from received_at
    store.add_lifecycle(
        "e13", "t3", "received", "2026-11-24T13:00:00.000Z", brand="taco-town", channel="doordash"
    )
    store.add_lifecycle(
        "e14", "t3", "started", "2026-11-24T13:01:15.250Z", brand="taco-town", channel="doordash"
    )
    store.add_lifecycle(
        "e15", "t3", "cancelled", "2026-11-24T13:02:00.000Z", brand="taco-town", channel="doordash"
    )


@pytest.fixture
def filled(store: Store) -> Store:
    _fill(store)
    return store


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


EXPECTED_TICKETS = {
    "t1": {
        "brand": "burger-bros",
        "channel": "ubereats",
        "received_at": "2026-11-24T12:00:00.000Z",
        "started_at": "2026-11-24T12:00:30.000Z",
        "ready_at": "2026-11-24T12:08:00.000Z",
        "picked_up_at": "2026-11-24T12:12:00.500Z",
        "cancelled_at": "",
        "seconds_to_start": "30.0",
        "seconds_to_ready": "480.0",
        "seconds_to_pickup": "720.5",
    },
    "t2": {
        "brand": "burger-bros",
        "channel": "ubereats",
        "received_at": "",
        "started_at": "",
        "ready_at": "2026-11-24T00:04:00.000Z",
        "picked_up_at": "",
        "cancelled_at": "",
        "seconds_to_start": "",
        "seconds_to_ready": "300.0",
        "seconds_to_pickup": "",
    },
    "t3": {
        "brand": "taco-town",
        "channel": "doordash",
        "received_at": "2026-11-24T13:00:00.000Z",
        "started_at": "2026-11-24T13:01:15.250Z",
        "ready_at": "",
        "picked_up_at": "",
        "cancelled_at": "2026-11-24T13:02:00.000Z",
        "seconds_to_start": "75.25",
        "seconds_to_ready": "",
        "seconds_to_pickup": "",
    },
}


CSVS = ["allergy_acks.csv", "stations.csv", "tickets.csv"]


def test_csv_export_writes_the_tables_into_the_directory(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "export"
    written = export(filled, since=SINCE, fmt="csv", out=out)
    assert written == out
    assert sorted(p.name for p in out.iterdir()) == CSVS

    tickets = _read_csv(out / "tickets.csv")
    assert tuple(tickets[0]) == TICKET_COLUMNS
    assert {
        row["ticket_id"]: {k: v for k, v in row.items() if k != "ticket_id"} for row in tickets
    } == EXPECTED_TICKETS
    assert [row["ticket_id"] for row in tickets] == ["t1", "t2", "t3"]

    stations = _read_csv(out / "stations.csv")
    assert tuple(stations[0]) == STATION_COLUMNS
    assert stations == [
        {
            "ticket_id": "t1",
            "station": "grill",
            "brand": "burger-bros",
            "channel": "ubereats",
            "bumped_at": "2026-11-24T12:05:00.000Z",
            "seconds_since_received": "300.0",
        },
        {
            "ticket_id": "t1",
            "station": "fry",
            "brand": "burger-bros",
            "channel": "ubereats",
            "bumped_at": "2026-11-24T12:06:00.000Z",
            "seconds_since_received": "360.0",
        },
    ]

    acks = _read_csv(out / "allergy_acks.csv")
    assert tuple(acks[0]) == ALLERGY_COLUMNS
    assert acks == [
        {
            "ticket_id": "t1",
            "station": "grill",
            "display_id": "grill-2",
            "brand": "burger-bros",
            "channel": "ubereats",
            "seen_at": "2026-11-24T12:00:10.000Z",
            "seconds_since_received": "10.0",
        }
    ]


def test_csv_export_replaces_files_and_naive_since_is_utc(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export(filled, since=SINCE, fmt="csv", out=out)
    export(filled, since=datetime(2026, 11, 24, 13, 0), fmt="csv", out=out)
    assert [r["ticket_id"] for r in _read_csv(out / "tickets.csv")] == ["t3"]
    assert _read_csv(out / "stations.csv") == []
    assert sorted(p.name for p in out.iterdir()) == CSVS


def test_csv_export_of_nothing_has_headers_only(store: Store, tmp_path: Path) -> None:
    out = export(store, since=SINCE, fmt="csv", out=tmp_path / "empty")
    assert (out / "tickets.csv").read_text() == ",".join(TICKET_COLUMNS) + "\n"
    assert (out / "stations.csv").read_text() == ",".join(STATION_COLUMNS) + "\n"


def test_csv_out_must_not_be_a_file(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "tickets.csv"
    target.write_text("x")
    with pytest.raises(ExportError, match="directory"):
        export(filled, since=SINCE, fmt="csv", out=target)


def test_unknown_format(filled: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export(filled, since=SINCE, fmt="xlsx", out=tmp_path)  # type: ignore[arg-type]


def test_seconds_fall_back_to_the_difference_from_received() -> None:
    tickets, stations = build_tables(
        [
            {"ticket_id": "t", "kind": "received", "at": "2026-11-24T10:00:00.000Z"},
            {
                "ticket_id": "t",
                "kind": "station_bumped",
                "station": "cold",
                "at": "2026-11-24T10:01:01.500Z",
            },
            {"ticket_id": "t", "kind": "picked_up", "at": "2026-11-24T10:03:00.000Z"},
        ]
    )
    assert tickets[0]["seconds_to_pickup"] == 180.0
    assert stations[0]["seconds_since_received"] == 61.5
    assert tickets[0]["brand"] == "" and stations[0]["brand"] == ""


def test_hyper_missing_says_how_to_install(
    filled: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tableauhyperapi", None)  # import fails
    with pytest.raises(ExportError) as caught:
        export(filled, since=SINCE, fmt="hyper", out=tmp_path / "x.hyper")
    assert TABLEAU_HINT in str(caught.value)
    assert "pip install 'ghost-kds[tableau]'" in str(caught.value)
    assert not (tmp_path / "x.hyper").exists()


def test_hyper_in_a_frozen_build_without_it_says_it_is_not_in_this_build(
    filled: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tableauhyperapi", None)  # left out of the bundle
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # as PyInstaller sets it
    with pytest.raises(ExportError, match="not in this build of edge-agent") as caught:
        export(filled, since=SINCE, fmt="hyper", out=tmp_path / "x.hyper")
    assert "--format csv" in str(caught.value)
    assert not (tmp_path / "x.hyper").exists()


@pytest.mark.skipif(not HAVE_HYPER, reason=f"tableauhyperapi not installed ({TABLEAU_HINT})")
def test_hyper_export_reads_back_with_tableauhyperapi(filled: Store, tmp_path: Path) -> None:
    from tableauhyperapi import Connection, HyperProcess, SqlType, TableName, Telemetry

    out = tmp_path / "reports" / "kds.hyper"
    assert export(filled, since=SINCE, fmt="hyper", out=out) == out
    assert sorted(p.name for p in out.parent.iterdir()) == ["kds.hyper"]

    with (
        HyperProcess(
            telemetry=Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_config": ""}
        ) as hyper,
        Connection(hyper.endpoint, database=out) as conn,
    ):
        names = sorted(t.name.unescaped for t in conn.catalog.get_table_names("public"))
        assert names == ["allergy_acks", "stations", "tickets"]
        ticket_def = conn.catalog.get_table_definition(TableName("public", "tickets"))
        assert tuple(c.name.unescaped for c in ticket_def.columns) == TICKET_COLUMNS
        assert ticket_def.get_column_by_name("ready_at").type == SqlType.timestamp_tz()
        assert ticket_def.get_column_by_name("seconds_to_ready").type == SqlType.double()
        assert ticket_def.get_column_by_name("brand").type == SqlType.text()

        tickets = conn.execute_list_query(
            "SELECT ticket_id, brand, channel, ready_at, cancelled_at, seconds_to_start, "
            "seconds_to_ready, seconds_to_pickup FROM public.tickets ORDER BY ticket_id"
        )
        assert [
            [str(v) if v is not None else None for v in row[:5]] + row[5:] for row in tickets
        ] == [
            [
                "t1",
                "burger-bros",
                "ubereats",
                "2026-11-24 12:08:00+00:00",
                None,
                30.0,
                480.0,
                720.5,
            ],
            ["t2", "burger-bros", "ubereats", "2026-11-24 00:04:00+00:00", None, None, 300.0, None],
            ["t3", "taco-town", "doordash", None, "2026-11-24 13:02:00+00:00", 75.25, None, None],
        ]
        picked = conn.execute_scalar_query(
            "SELECT picked_up_at FROM public.tickets WHERE ticket_id = 't1'"
        )
        assert picked.to_datetime() == datetime(2026, 11, 24, 12, 12, 0, 500000, tzinfo=UTC)

        stations = conn.execute_list_query(
            "SELECT ticket_id, station, seconds_since_received FROM public.stations "
            "ORDER BY bumped_at"
        )
        assert stations == [["t1", "grill", 300.0], ["t1", "fry", 360.0]]
        acks = conn.execute_list_query(
            "SELECT ticket_id, station, display_id, seen_at FROM public.allergy_acks"
        )
        assert [[str(v) for v in row] for row in acks] == [
            ["t1", "grill", "grill-2", "2026-11-24 12:00:10+00:00"]
        ]


@pytest.mark.skipif(not HAVE_HYPER, reason=f"tableauhyperapi not installed ({TABLEAU_HINT})")
def test_hyper_into_a_directory_replaces_the_file(filled: Store, tmp_path: Path) -> None:
    first = export(filled, since=SINCE, fmt="hyper", out=tmp_path)
    assert first == tmp_path / "kds-export.hyper"
    second = export(filled, since=datetime(2026, 11, 25, tzinfo=UTC), fmt="hyper", out=tmp_path)
    assert second == first
    # nothing left beside the store but the one file (no temporary, no hyperd.log)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("edge.sqlite3")) == [
        "kds-export.hyper"
    ]


def test_cli_export_error_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge_agent.__main__ import main

    config = tmp_path / "agent.toml"
    config.write_text(
        'site_id = "cli-01"\nstations = ["grill", "expo"]\nexpo_station = "expo"\n'
        '[core]\nurl = "http://127.0.0.1:9"\n[mq]\nurl = "stomp://127.0.0.1:9"\n'
        f'user = "kds-cli-01"\n[store]\npath = "{tmp_path / "edge.sqlite3"}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KDS_CORE_TOKEN", "cli-token")
    monkeypatch.setenv("KDS_MQ_PASSWORD", "cli-password")
    monkeypatch.setitem(sys.modules, "tableauhyperapi", None)
    argv = ["export", "--config", str(config), "--since", "2026-01-01T00:00Z"]
    code = main([*argv, "--format", "hyper", "--out", str(tmp_path / "x.hyper")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("edge-agent: export: the hyper format needs tableauhyperapi"), err
    assert "Traceback" not in err
