"""Names vulture reports as unused that are not dead (read by scripts/check via
[tool.vulture] in pyproject.toml; never imported or run).

Vulture matches by name only, so ``_.paint`` keeps every ``paint`` alive. Add a name
here only when something outside our packages uses it (Qt, the standard library, a
library, pydantic, getattr, the tests), with the group's reason; code that nothing
uses is deleted instead. Regenerate candidates with ``.venv/bin/vulture --make-whitelist``.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# --- Qt virtual methods: Qt calls them (QStyledItemDelegate) -----------------------
_.paint
_.sizeHint

# --- QAbstractItemView's virtual methods: Qt calls them (kitchen_display/card_wall.py) ---
_.doItemsLayout
_.indexAt
_.moveCursor
_.horizontalOffset
_.isIndexHidden
_.setSelection
_.visualRegionForSelection
_.scrollContentsBy
_.paintEvent

# --- http.server / socketserver hooks: the standard library calls or reads them ----
# (core_sim/server.py: a BaseHTTPRequestHandler and a ThreadingHTTPServer)
_.do_GET
_.do_POST
_.do_PUT
_.do_DELETE
_.do_PATCH
_.log_request
_.log_message
_.protocol_version
_.server_version
_.close_connection
_.daemon_threads

# --- logging.handlers.BaseRotatingHandler hook: its emit calls it (shared/logs.py) ---
_.shouldRollover

# --- stomp.py ConnectionListener callbacks: stomp.py's receiver thread calls them ---
_.on_connected
_.on_message
_.on_receipt
_.on_error
_.on_disconnected
_.on_heartbeat_timeout

# --- python-escpos: Network.device is the socket the library writes to --------------
_.device

# --- httpx and http.client: httpx calls a transport's handle_request; http.client's
# getresponse builds its answer with the connection's response_class
# (edge_agent/adapters/http_transport.py)
_.handle_request
_.response_class

# --- context-manager protocol: __exit__(exc_type, exc, tb) takes them, unused -------
_.exc_type
_.tb
_.exc_info

# --- pydantic: model_config is read by pydantic; wire fields and enum values are ----
# parsed from and written to JSON (the core's order feed, docs/protocols.md)
_.model_config
_.notify
_.total_cents
_.PLACED

# --- read with getattr(obj, name) from a list of names or a config key --------------
# [keys] actions (kitchen_display/config.py KeySettings.actions())
_.select_next
_.select_previous
_.recall_list
# [sns.templates.*] / [sns.brands.*] texts per event (edge_agent/config.py)
_.cancelled

# --- seams the tests (and scripts/screenshots.py) observe the product through -------
# Kept on purpose: they expose state the tests assert on without reaching into privates.
_.open_connections  # core_sim.CoreSimulator, also documented in docs/core-sim.md
_.receipt_to_text  # edge_agent.printing: the paper as text (tests, docs/printing.md)
_.dead_letters  # edge_agent.store.Store
_.state_of  # kitchen_display.board_model
_.out_of_stock_texts  # kitchen_display.board
_.current_language  # kitchen_display.i18n
_.card_width  # kitchen_display.card_delegate.TicketCardDelegate: where to tap
_.button_height
_.button_rect
_.line_rect
_.card_texts
_.all_inks  # kitchen_display.card_style.CardStyle: the ink table the contrast test reads
_.contrast  # kitchen_display.card_style.Ink
_.pairs  # kitchen_display.board_model.BoardColors: what the board contrast test reads
_.last_seq  # kitchen_display.sync.TicketSync
_.snapshot_pending
_.synced
_.pending_for
_.broker_auth  # edge_agent.broker_acl.Fleet: what tests/helpers/activemq.py takes (auth=)
_.login_config  # edge_agent.broker_acl.BrokerAuth: written by tests/helpers/activemq.py
_.uninstall  # shared.redact: tests install the redaction for one test, then undo it
_.forget_all  # shared.redact: a test that counts masks starts from no remembered secret
_.SCHEMA_VERSION  # edge_agent.store: the current schema version, for tests and docs
_.quickack_reads  # edge_agent.adapters.http_transport.QuickAckTransport: the transport test
_.connections_opened  # the same: one kept-alive connection serves many requests
_.all_day_by_station  # shared.allday: counting from scratch, what the live tally is tested against
