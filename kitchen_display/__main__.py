"""``python -m kitchen_display --config FILE``."""

from __future__ import annotations

import sys

from kitchen_display.app import main

if __name__ == "__main__":
    sys.exit(main())
