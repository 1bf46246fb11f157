"""A virtual X screen (Debian's ``Xvfb``) and screenshots of it, for long runs.

Library use::

    with Xvfb(1920, 1080) as screen:          # a free display number, e.g. ":93"
        env = {**os.environ, **screen.env()}  # DISPLAY=:93, QT_QPA_PLATFORM=xcb
        ...
        screen.grab(Path("shot.png"))         # the whole screen, as a PNG

A screenshot is taken by Qt itself in a separate process (``python -m
tests.helpers.xvfb grab OUT.png``), as ``scripts/demo-screenshot`` does, so it
needs nothing beyond Xvfb and the project's own packages.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

SOCKETS = Path("/tmp/.X11-unix")


class Xvfb:
    """``Xvfb :N -screen 0 WxHx24`` on the first free display number from ``first``."""

    def __init__(self, width: int = 1920, height: int = 1080, *, first: int = 90) -> None:
        self.width = width
        self.height = height
        self._first = first
        self.display = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> Xvfb:
        for number in range(self._first, self._first + 100):
            if (SOCKETS / f"X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
                continue
            proc = subprocess.Popen(
                [
                    "Xvfb",
                    f":{number}",
                    "-screen",
                    "0",
                    f"{self.width}x{self.height}x24",
                    "-nolisten",
                    "tcp",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                if (SOCKETS / f"X{number}").exists():
                    self._proc, self.display = proc, f":{number}"
                    return self
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
                raise RuntimeError(f"Xvfb :{number} did not open its socket within {timeout}s")
            # lost a race for that number: try the next one
        raise RuntimeError(f"no free X display number from :{self._first}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def __enter__(self) -> Xvfb:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """What a Qt program needs to show its windows on this screen."""
        return {"DISPLAY": self.display, "QT_QPA_PLATFORM": "xcb"}

    def grab(self, out: Path, timeout: float = 30.0) -> Path:
        """Save the whole screen to ``out`` (PNG); raise RuntimeError if that failed."""
        env = {**os.environ, **self.env()}
        done = subprocess.run(
            [sys.executable, "-m", "tests.helpers.xvfb", "grab", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"screenshot {out} failed: {done.stderr.strip()[-500:]}")
        return out


def _grab(out: str) -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    screen = app.primaryScreen()
    shot = screen.grabWindow(0) if screen is not None else None
    if shot is None or shot.isNull() or not shot.save(out):
        print(f"could not save {out}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.helpers.xvfb")
    sub = parser.add_subparsers(dest="cmd", required=True)
    grab = sub.add_parser("grab", help="save the screen of $DISPLAY as a PNG")
    grab.add_argument("out")
    args = parser.parse_args(argv)
    return _grab(args.out)


if __name__ == "__main__":
    sys.exit(main())
