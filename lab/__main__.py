"""`python -m lab ...` -> lab.cli.main."""
import sys

from lab.cli import main

sys.exit(main())
