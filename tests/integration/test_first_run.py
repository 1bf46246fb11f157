"""The first-run setup screen on the real ActiveMQ with a real agent, driven by taps:
TEST CONNECTION says what it found (the agent answered with its open tickets, no agent
for that site, no broker at that port, the broker refused the login), and after SAVE
AND START the display shows the site's tickets in the same process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from shiboken6 import isValid

from kitchen_display.app import Launcher, parse_args
from kitchen_display.setup_screen import SetupWindow
from shared.mq import MqUrl
from tests.helpers.activemq import ActiveMQ
from tests.helpers.fixtures import Site
from tests.helpers.net import free_port
from tests.helpers.setup_pad import fill_form, tap
from tests.helpers.site import line_item, unique_site, wait_until

pytestmark = pytest.mark.broker

#: how long the setup's test waits for the agent here (the product: 5 s)
ANSWER_SECONDS = 2.0
WAIT_MS = 20_000
USER, PASSWORD = "kds-setup", "the-right-pw-1"


@pytest.fixture
def window(tmp_path: Path, qtbot: QtBot) -> Iterator[SetupWindow]:
    screen = SetupWindow(tmp_path / "display.toml", answer_seconds=ANSWER_SECONDS)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    yield screen
    qtbot.waitUntil(lambda: not screen.test.running, timeout=WAIT_MS)
    screen.close()


@pytest.fixture(scope="module")
def auth_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActiveMQ]:
    """A broker that takes one login only."""
    broker = ActiveMQ(
        tmp_path_factory.mktemp("auth-mq"), broker_name="kds-setup", users={USER: PASSWORD}
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def port_of(url: str) -> int:
    return MqUrl.parse(url).port


def grill_orders(site: Site, count: int) -> None:
    """``count`` open orders with a grill line, and the agent has them all."""
    for n in range(count):
        site.sim.create_order(site.site_id, items=[line_item(f"l{n}", "Burger", "grill")])
    with site.peer() as peer:
        wait_until(lambda: len(peer.call("snapshot").tickets or ()) == count, timeout=30)


def run_test(qtbot: QtBot, window: SetupWindow) -> str:
    tap(qtbot, window.test_button)
    assert window.status.property("state") == "busy"
    assert window.status.text().startswith("Testing the connection to ")
    assert not window.test_button.isEnabled() and not window.save_button.isEnabled()
    qtbot.waitUntil(lambda: window.status.property("state") != "busy", timeout=WAIT_MS)
    assert window.test_button.isEnabled() and window.save_button.isEnabled()
    return window.status.text()


def test_the_agent_answers_with_its_open_tickets(
    site: Site, window: SetupWindow, qtbot: QtBot
) -> None:
    grill_orders(site, 2)
    fill_form(
        qtbot,
        window,
        site_id=site.site_id,
        station="grill",
        host="127.0.0.1",
        port=port_of(site.mq_url),
    )
    text = run_test(qtbot, window)
    assert text == f"Connected: the agent for site {site.site_id} answered, 2 open tickets"
    assert window.status.property("state") == "ok"


def test_no_agent_for_the_site(activemq_url: str, window: SetupWindow, qtbot: QtBot) -> None:
    site_id = unique_site()
    fill_form(
        qtbot, window, site_id=site_id, station="fry", host="127.0.0.1", port=port_of(activemq_url)
    )
    text = run_test(qtbot, window)
    assert text == f"No agent for site {site_id} answered within 2 s"
    assert window.status.property("state") == "error"


def test_no_broker_at_the_port(window: SetupWindow, qtbot: QtBot) -> None:
    port = free_port()
    fill_form(qtbot, window, site_id="ams-01", station="bar", host="127.0.0.1", port=port)
    assert run_test(qtbot, window) == f"No broker at 127.0.0.1:{port}"
    assert window.status.property("state") == "error"


def test_the_broker_refuses_a_wrong_password(
    auth_broker: ActiveMQ, window: SetupWindow, qtbot: QtBot
) -> None:
    fill_form(
        qtbot,
        window,
        site_id="ams-01",
        station="cold",
        host="127.0.0.1",
        port=port_of(auth_broker.url),
        user=USER,
        password="wrong-pw",
    )
    text = run_test(qtbot, window)
    assert text == "The broker refused the login (check the broker user and password)"
    assert "wrong-pw" not in text


def test_the_right_password_logs_in(
    auth_broker: ActiveMQ, window: SetupWindow, qtbot: QtBot
) -> None:
    """The same broker, the right password: logged in (no agent there)."""
    fill_form(
        qtbot,
        window,
        site_id="ams-01",
        station="cold",
        host="127.0.0.1",
        port=port_of(auth_broker.url),
        user=USER,
        password=PASSWORD,
    )
    assert run_test(qtbot, window) == "No agent for site ams-01 answered within 2 s"


def test_after_save_the_display_shows_the_sites_tickets(
    site: Site, tmp_path: Path, qtbot: QtBot, test_keyring: object
) -> None:
    grill_orders(site, 2)
    path = tmp_path / "config" / "display.toml"
    launcher = Launcher(parse_args(["--config", str(path)]), sound_player=None)
    try:
        assert launcher.start() is None
        setup = launcher.setup
        assert setup is not None
        qtbot.waitExposed(setup)
        fill_form(
            qtbot,
            setup,
            site_id=site.site_id,
            station="grill",
            host="127.0.0.1",
            port=port_of(site.mq_url),
            password="pw-in-the-keyring",
        )
        tap(qtbot, setup.save_button)
        assert path.is_file() and "pw-in-the-keyring" not in path.read_text()
        display = launcher.display
        assert display is not None and launcher.setup is None
        qtbot.waitExposed(display.window)
        qtbot.waitUntil(lambda: display.model.rowCount() == 2, timeout=WAIT_MS)
        assert display.config.mq.password.reveal() == "pw-in-the-keyring"
        assert display.window.config_path == path
        qtbot.waitUntil(lambda: not isValid(setup))  # closed and deleted
    finally:
        launcher.close()
