# sqlite-vec is a loadable SQLite extension (vec0.so/.dylib/.dll) that photodesk loads from the
# package folder by path; PyInstaller's library patterns (lib*.so) do not match its name.
from pathlib import Path

from PyInstaller.utils.hooks import get_package_paths

_, _package = get_package_paths("sqlite_vec")
binaries = [(str(p), "sqlite_vec") for p in Path(_package).glob("vec0.*")]
hiddenimports = ["sqlite_vec"]
