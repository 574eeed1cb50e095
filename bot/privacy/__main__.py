"""`python -m bot.privacy purge|export|erase`: see bot/privacy/cli.py."""

import sys

from bot.privacy.cli import main

sys.exit(main())
