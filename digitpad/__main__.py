"""``python -m digitpad`` is the same as the ``digitpad`` console script."""

from digitpad.cli import main

raise SystemExit(main())
