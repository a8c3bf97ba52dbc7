# faiss-cpu: SWIG modules picked at run time by CPU features (AVX2/AVX512), so take them all.
from PyInstaller.utils.hooks import collect_dynamic_libs, collect_submodules

binaries = collect_dynamic_libs("faiss")
hiddenimports = collect_submodules("faiss")
