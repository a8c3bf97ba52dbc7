# pillow-heif: the compiled module and libheif with its codec plugins.
from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs

binaries = collect_dynamic_libs("pillow_heif")
datas = collect_data_files("pillow_heif")
hiddenimports = ["pillow_heif._pillow_heif"]
