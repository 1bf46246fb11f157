"""The frozen ``kitchen-display``'s entry script (PyInstaller runs this file as ``__main__``)."""

import sys

from kitchen_display.app import main

sys.exit(main())
