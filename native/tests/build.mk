# native self-tests: python3 reference coordinator + scenario runs
CHECKS += check-native
.PHONY: check-native
check-native: $(BINS)
	python3 tests/run_tests.py $(OUT)

# The image layout as the C compiler sees it, and the Java and Python readers held to it:
# part of the build (BINS), so a layout change in one place fails `make`, not a restart.
IMAGE_LAYOUT_JAVA := ../framework/src/main/java/org/stasis/framework/store/ImageLayout.java
BINS += $(OUT)/obj/image-layout.checked
$(OUT)/obj/image-layout: tests/image_layout.c $(wildcard include/stasis/*.h) | $(OUT)/obj
	$(CC) $(CFLAGS) -o $@ $<
$(OUT)/obj/image-layout.checked: $(OUT)/obj/image-layout tests/check_image_layout.py tests/imagefmt.py $(wildcard $(IMAGE_LAYOUT_JAVA))
	$(OUT)/obj/image-layout > $(OUT)/obj/image-layout.txt
	python3 tests/check_image_layout.py $(OUT)/obj/image-layout.txt $(IMAGE_LAYOUT_JAVA)
	touch $@
