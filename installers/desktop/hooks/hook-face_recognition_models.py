# The dlib face detector and embedding weights (.dat files) ship as package data.
from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("face_recognition_models")
