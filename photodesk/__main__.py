"""``python -m photodesk``: the same entry point as the ``photodesk`` command."""

from photodesk.cli.main import main

raise SystemExit(main())
