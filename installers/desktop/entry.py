"""The bundled program's entry point (PyInstaller runs this as ``photodesk``)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Import and ML workers run in forkserver/spawn processes: a frozen program must hand those
    # child invocations to multiprocessing before anything else runs.
    multiprocessing.freeze_support()
    from photodesk.cli.main import main

    sys.exit(main())
