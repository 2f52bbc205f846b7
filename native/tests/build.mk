# native self-tests: python3 reference coordinator + scenario runs
CHECKS += check-native
.PHONY: check-native
check-native: $(BINS)
	python3 tests/run_tests.py $(OUT)
