# sqlean-py: a full SQLite build with extensions, as a compiled module.
from PyInstaller.utils.hooks import collect_dynamic_libs, collect_submodules

binaries = collect_dynamic_libs("sqlean")
hiddenimports = collect_submodules("sqlean")
