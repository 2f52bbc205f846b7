# The stasis Python package: its unit tests run in `make check`; its type check
# (`make check-python-types`, mypy with python/mypy.ini) runs in CI (.ci/run), where mypy
# is installed (Debian: python3-mypy, for the system's /usr/bin/python3, which may not
# be the python3 on PATH). MYPY names another mypy if needed.
CHECKS += check-python
MYPY ?= $(if $(shell python3 -c 'import mypy' 2>/dev/null && echo y),python3,/usr/bin/python3) -m mypy
.PHONY: check-python check-python-types
check-python:
	python3 -m unittest discover -s python/tests -p 'test_*.py'
check-python-types:
	cd python && $(MYPY) --config-file mypy.ini
