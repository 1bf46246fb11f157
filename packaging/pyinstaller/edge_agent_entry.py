"""The frozen ``edge-agent``'s entry script (PyInstaller runs this file as ``__main__``)."""

import sys

from edge_agent.__main__ import main

sys.exit(main())
