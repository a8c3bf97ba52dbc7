# dlib (the dlib-bin wheel): one compiled module; its shared libraries come with it.
from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("dlib")
hiddenimports = ["_dlib_pybind11"]
