"""The printer adapters against real sockets: ESC/POS over TCP to a SocketPrinter,
the PoS print API over HTTP to a PosServer; errors translated at the boundary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import httpx
import pytest

from edge_agent.adapters.printer_escpos import EscPosPrinter, encode_receipt
from edge_agent.adapters.printer_http import PosPrintApi, job_body
from edge_agent.adapters.printers import make_printer
from edge_agent.errors import PrinterRejected, PrinterUnavailable, RetryableError
from edge_agent.ports import Printer
from edge_agent.printing import Line, Receipt, render_label, render_ticket
from tests.helpers.net import free_port
from tests.helpers.pos_server import PosServer
from tests.helpers.socket_printer import SocketPrinter, decode
from tests.unit.shared.factories import item_dict, ticket

ORDER_ID = "ord_01JD2X8Q4ZK3"


@pytest.fixture
def printer() -> Iterator[SocketPrinter]:
    with SocketPrinter() as fake:
        yield fake


@pytest.fixture
def escpos(printer: SocketPrinter) -> Iterator[EscPosPrinter]:
    with EscPosPrinter("grill", "127.0.0.1", printer.port, timeout=5.0) as adapter:
        yield adapter


@pytest.fixture
def pos() -> Iterator[PosServer]:
    with PosServer() as server:
        yield server


@pytest.fixture
def api(pos: PosServer) -> Iterator[PosPrintApi]:
    with PosPrintApi("grill", pos.url, api_key="k-secret", timeout=5.0) as adapter:
        yield adapter


def grill_ticket() -> Receipt:
    t = ticket(
        priority="rush",
        items=[
            item_dict("l1", "grill", qty=2, name="Smash Burger", allergens=["gluten", "milk"]),
            item_dict("l2", "fry", name="Fries"),
            item_dict("l3", "grill", name="Crème brûlée", allergens=[]),
        ],
    )
    return render_ticket(t, "grill", placed_tz=UTC)


# --- ESC/POS over TCP -------------------------------------------------------------------


def test_escpos_ticket_round_trip(printer: SocketPrinter, escpos: EscPosPrinter) -> None:
    escpos.print(grill_ticket(), job_id="job-1")
    [job] = printer.wait_for_jobs(1)
    assert job.status_queries == [1, 2, 4]  # asked before printing
    assert job.unknown == []
    lines = job.lines
    assert lines[0] == "Burger Bros" and lines[1] == "A-1042"
    assert "Burger Bros" in job.large_texts and "A-1042" in job.large_texts
    assert "2 x Smash Burger" in lines and "1 x Crème brûlée" in lines
    assert "    - No onions" in lines
    assert "Fries" not in job.text
    assert job.inverted_texts == ["*** RUSH ***", "ALLERGENS: GLUTEN, MILK"]
    assert "2 x Smash Burger" in job.bold_texts
    assert "- No onions" not in job.bold_texts
    assert job.cut and job.qr_data == []


def test_escpos_label_qr_is_the_order_id(printer: SocketPrinter, escpos: EscPosPrinter) -> None:
    escpos.print(render_label(ticket(), "Zoë"), job_id="job-2")
    [job] = printer.wait_for_jobs(1)
    assert job.qr_data == [ORDER_ID]
    assert job.lines[:4] == ["Burger Bros", "A-1042", "Zoë", "UBEREATS"]
    assert job.cut


def test_escpos_one_connection_per_job(printer: SocketPrinter, escpos: EscPosPrinter) -> None:
    for n in range(3):
        escpos.print(render_label(ticket(display_number=f"A-{n}"), "Sam"), job_id=f"j{n}")
    jobs = printer.wait_for_jobs(3)
    assert [job.lines[1] for job in jobs] == ["A-0", "A-1", "A-2"]


def test_escpos_unprintable_characters_are_replaced() -> None:
    receipt = Receipt("ticket", "t", (Line("Łódź €5 🔥 宫保"),))
    job = decode(encode_receipt(receipt))
    assert job.text == "Łódź €5 ? ??"


def test_escpos_offline_refused_then_back(printer: SocketPrinter, escpos: EscPosPrinter) -> None:
    printer.go_offline("refuse")
    with pytest.raises(PrinterUnavailable, match="cannot connect") as err:
        escpos.print(grill_ticket(), job_id="job-1")
    assert isinstance(err.value, RetryableError)
    assert isinstance(err.value.__cause__, ConnectionRefusedError)
    assert "grill" in str(err.value) and str(printer.port) in str(err.value)
    printer.go_online()
    escpos.print(grill_ticket(), job_id="job-1")
    assert len(printer.wait_for_jobs(1)) == 1


def test_escpos_connection_reset(printer: SocketPrinter, escpos: EscPosPrinter) -> None:
    printer.go_offline("drop")  # accepts, then resets
    with pytest.raises(PrinterUnavailable) as err:
        escpos.print(grill_ticket(), job_id="job-1")
    assert isinstance(err.value.__cause__, OSError) or "closed the connection" in str(err.value)


def test_escpos_connect_timeout() -> None:
    # 192.0.2.0/24 is TEST-NET-1: nothing answers, the connect times out (or the
    # network says unreachable): either way the job is retried later.
    with (
        EscPosPrinter("grill", "192.0.2.1", 9100, timeout=0.2) as adapter,
        pytest.raises(PrinterUnavailable, match="cannot connect"),
    ):
        adapter.print(grill_ticket(), job_id="job-1")


def test_escpos_paper_out_then_refilled(printer: SocketPrinter, escpos: EscPosPrinter) -> None:
    printer.set_state("paper_out")
    with pytest.raises(PrinterUnavailable, match="out of paper"):
        escpos.print(grill_ticket(), job_id="job-1")
    with pytest.raises(PrinterUnavailable, match="out of paper"):
        escpos.check()
    printer.wait_for_connections(2)
    assert printer.jobs == []  # nothing was sent after the status answers
    printer.set_state("online")
    escpos.print(grill_ticket(), job_id="job-1")
    assert len(printer.wait_for_jobs(1)) == 1


def test_escpos_cover_open(printer: SocketPrinter, escpos: EscPosPrinter) -> None:
    printer.set_state("cover_open")
    with pytest.raises(PrinterUnavailable, match="cover open"):
        escpos.print(grill_ticket(), job_id="job-1")


def test_escpos_check(printer: SocketPrinter, escpos: EscPosPrinter) -> None:
    assert escpos.check() == "online, paper ok"
    printer.set_state("paper_low")
    assert escpos.check() == "online, paper low"
    escpos.print(grill_ticket(), job_id="low")  # paper low still prints
    assert len(printer.wait_for_jobs(1)) == 1
    printer.go_offline()
    with pytest.raises(PrinterUnavailable, match="cannot connect"):
        escpos.check()


def test_escpos_printer_that_never_answers_status(printer: SocketPrinter) -> None:
    printer.answers_status = False
    with EscPosPrinter("grill", "127.0.0.1", printer.port, status_timeout=0.2) as adapter:
        assert adapter.check() == "reachable, status not reported"
        adapter.print(grill_ticket(), job_id="job-1")
    [job] = printer.wait_for_jobs(1)
    assert job.status_queries == [1]  # asked once, then printed anyway
    assert job.cut


# --- PoS print API over HTTP ------------------------------------------------------------


def test_pos_api_posts_the_v1_request(pos: PosServer, api: PosPrintApi) -> None:
    receipt = grill_ticket()
    api.print(receipt, job_id="job-42")
    [request] = pos.jobs
    assert request.path == "/print"
    assert request.headers["authorization"] == "Bearer k-secret"
    assert request.headers["idempotency-key"] == "job-42"
    assert request.headers["content-type"] == "application/json"
    body = request.json
    assert body == job_body("grill", receipt, "job-42")
    assert body["v"] == 1 and body["job_id"] == "job-42" and body["printer"] == "grill"
    assert body["kind"] == "ticket" and body["title"] == "A-1042 grill"
    assert body["qr"] is None and body["cut"] is True
    assert body["lines"][0] == {
        "text": "Burger Bros",
        "bold": True,
        "invert": False,
        "size": "large",
        "align": "center",
        "indent": 0,
    }
    allergen = next(line for line in body["lines"] if line["text"].startswith("ALLERGENS"))
    assert allergen["invert"] is True and allergen["indent"] == 4
    assert any(line["text"] == "1 x Crème brûlée" for line in body["lines"])


def test_pos_api_label_and_no_key(pos: PosServer) -> None:
    with PosPrintApi("expo", pos.url, api_key=None) as api:
        api.print(render_label(ticket(), "Sam"), job_id="lbl-1")
    [request] = pos.jobs
    assert "authorization" not in request.headers
    assert request.json["kind"] == "label" and request.json["qr"] == ORDER_ID


def test_pos_api_503_is_retried_with_retry_after(pos: PosServer, api: PosPrintApi) -> None:
    pos.fail_next(503, retry_after=7)
    with pytest.raises(PrinterUnavailable, match="503") as err:
        api.print(grill_ticket(), job_id="job-1")
    assert err.value.retry_after == 7
    api.print(grill_ticket(), job_id="job-1")  # the retry, same key
    assert [r.headers["idempotency-key"] for r in pos.jobs] == ["job-1", "job-1"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 1.0), ("86400", 60.0), ("1e12", None), ("Fri, 31 Dec 9999 23:59:59 GMT", None)],
)
def test_pos_api_retry_after_is_bounded(
    pos: PosServer, api: PosPrintApi, value: str, expected: float | None
) -> None:
    pos.fail_next(429, retry_after=value)
    with pytest.raises(PrinterUnavailable, match="429") as err:
        api.print(grill_ticket(), job_id="job-1")
    assert err.value.retry_after == expected


@pytest.mark.parametrize("status", [500, 502, 429, 408, 409, 401, 403])
def test_pos_api_retryable_statuses(pos: PosServer, api: PosPrintApi, status: int) -> None:
    pos.fail_next(status)
    with pytest.raises(PrinterUnavailable, match=str(status)) as err:
        api.print(grill_ticket(), job_id="job-1")
    assert err.value.retry_after is None


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_pos_api_permanent_statuses(pos: PosServer, api: PosPrintApi, status: int) -> None:
    pos.fail_next(status, body='{"error": "unknown_printer"}')
    with pytest.raises(PrinterRejected, match=f"{status}: .*unknown_printer"):
        api.print(grill_ticket(), job_id="job-1")


def test_pos_api_server_down_then_up(pos: PosServer, api: PosPrintApi) -> None:
    pos.go_down()
    with pytest.raises(PrinterUnavailable) as err:
        api.print(grill_ticket(), job_id="job-1")
    assert isinstance(err.value.__cause__, httpx.ConnectError)
    with pytest.raises(PrinterUnavailable):
        api.check()
    pos.go_up()
    api.print(grill_ticket(), job_id="job-1")
    [request] = pos.jobs  # only the attempt made while the server was up reached it
    assert request.headers["idempotency-key"] == "job-1"


def test_pos_api_timeout(pos: PosServer) -> None:
    pos.hang_next()
    with (
        PosPrintApi("grill", pos.url, api_key=None, timeout=0.2) as api,
        pytest.raises(PrinterUnavailable, match="timed out") as err,
    ):
        api.print(grill_ticket(), job_id="job-1")
    assert isinstance(err.value.__cause__, httpx.TimeoutException)
    pos.release()


def test_pos_api_check(pos: PosServer, api: PosPrintApi) -> None:
    assert api.check() == "reachable (HTTP 405)"
    assert pos.requests[-1].method == "GET"
    assert pos.requests[-1].headers["authorization"] == "Bearer k-secret"
    pos.fail_next(401)
    with pytest.raises(PrinterUnavailable, match="API key refused"):
        api.check()
    pos.fail_next(404)
    with pytest.raises(PrinterUnavailable, match="404"):
        api.check()


def test_pos_api_key_quoted_back_by_the_pos_is_masked(pos: PosServer, api: PosPrintApi) -> None:
    """Some PoS APIs quote the key they refused; the error (logged, and stored with the
    outbox row) must not carry it."""
    pos.fail_next(401, body='{"error": "unknown key k-secret"}')
    with pytest.raises(PrinterUnavailable) as refused:
        api.print(grill_ticket(), job_id="job-1")
    assert "k-secret" not in str(refused.value)
    assert 'PoS answered 401: {"error": "unknown key ********"}' in str(refused.value)
    pos.fail_next(422, body="bad request from Bearer k-secret")
    with pytest.raises(PrinterRejected) as rejected:
        api.print(grill_ticket(), job_id="job-2")
    assert "k-secret" not in str(rejected.value)


# --- make_printer -----------------------------------------------------------------------


def test_make_printer_dispatches_on_the_scheme() -> None:
    tcp = make_printer("grill", "tcp://10.0.0.21:9100")
    assert isinstance(tcp, EscPosPrinter) and isinstance(tcp, Printer)
    assert (tcp.name, tcp.host, tcp.port, tcp.timeout) == ("grill", "10.0.0.21", 9100, 5.0)
    default_port = make_printer("grill", "tcp://printer.local")
    assert isinstance(default_port, EscPosPrinter) and default_port.port == 9100
    for url in ("https://pos.local/print", "http://10.0.0.5:8080/api/print"):
        http = make_printer("bar", url, api_key="k", timeout=3.0)
        try:
            assert isinstance(http, PosPrintApi) and isinstance(http, Printer)
            assert http.name == "bar" and http.url == url
        finally:
            http.close()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://10.0.0.21/print",
        "10.0.0.21:9100",
        "usb:///dev/usb/lp0",
        "tcp://",
        "tcp://10.0.0.21:9100/queue",
        "tcp://10.0.0.21:notaport",
        "http://",
    ],
)
def test_make_printer_refuses_other_urls(url: str) -> None:
    with pytest.raises(ValueError, match="printer grill: .*" + url.replace("/", ".")[:8]):
        make_printer("grill", url)


def test_make_printer_end_to_end(printer: SocketPrinter, pos: PosServer) -> None:
    for adapter in (make_printer("grill", printer.url), make_printer("grill", pos.url)):
        try:
            adapter.print(render_label(ticket(), "Sam"), job_id="e2e")
        finally:
            adapter.close()
    assert printer.wait_for_jobs(1)[0].qr_data == [ORDER_ID]
    assert pos.jobs[0].json["qr"] == ORDER_ID


def test_free_port_is_refused() -> None:
    with (
        EscPosPrinter("grill", "127.0.0.1", free_port()) as adapter,
        pytest.raises(PrinterUnavailable, match="cannot connect"),
    ):
        adapter.check()
