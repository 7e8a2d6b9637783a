"""``python -m tui``: the same as the ``ihub`` command."""

import sys

from tui.cli import main

sys.exit(main())
