# photodesk loads its views and server parts by name (importlib), finds some optional packages
# with importlib.util.find_spec (never imported where PyInstaller can see it), and Alembic reads
# the migration scripts as files.
from PyInstaller.utils.hooks import collect_data_files, collect_submodules

hiddenimports = [
    *collect_submodules("photodesk"),
    "sqlite_vec",
    "face_recognition_models",
    "dlib",
    "onnxruntime",
]
datas = collect_data_files("photodesk") + collect_data_files(
    "photodesk.core.catalog.db.migrations", include_py_files=True
)
