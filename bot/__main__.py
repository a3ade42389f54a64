"""``python -m bot`` is the ``ddi-bot`` command."""

import sys

from bot.cli import main

sys.exit(main())
