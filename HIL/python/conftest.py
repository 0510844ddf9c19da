# Loads the itpump pytest plugin for HIL/python/tests (this directory is the rootdir: pytest.ini).
# Elsewhere: PYTHONPATH=HIL/python python3 -m pytest -p itpump_hil.pytest_plugin YOUR_TESTS
pytest_plugins = ["itpump_hil.pytest_plugin"]
