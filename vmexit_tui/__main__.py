import sys

from vmexit_tui.cli import main

sys.exit(main())
