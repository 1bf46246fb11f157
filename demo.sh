#!/usr/bin/env bash
# The demo: a core simulator, an embedded STOMP broker, the edge agent and two
# kitchen display windows (grill and expo), on a machine with only Python 3.11+.
#
#   ./demo.sh                      # grill + expo windows, 12 orders a minute
#   ./demo.sh --stations grill,fry,expo --rate 30
#   ./demo.sh --mq-url stomp://127.0.0.1:61613   # use a running ActiveMQ instead
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PY=${PYTHON:-python3}
scripts/system-deps gui   # the X11 libraries Qt needs for a window (installs them as root)
if [[ -z ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then
    echo "no screen (DISPLAY unset): run it on a desktop, or under Xvfb: xvfb-run -s '-screen 0 1600x1000x24' ./demo.sh" >&2
    exit 2
fi
if ! .venv/bin/python -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "==> creating .venv with $PY"
    "$PY" -m venv .venv
fi
if ! .venv/bin/python -c 'import coilmq, kds_demo, PySide6' 2>/dev/null; then
    echo "==> installing the project with its demo extra into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[demo]'
fi
exec .venv/bin/python -m kds_demo "$@"
