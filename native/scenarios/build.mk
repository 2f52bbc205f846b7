# scenario programs for the checkpoint/restart tests
SCEN_C    := counter threads files selfckpt
SCEN_BINS := $(addprefix $(OUT)/scenarios/,$(SCEN_C)) $(OUT)/scenarios/python_memory.py

BINS += $(SCEN_BINS)

$(OUT)/scenarios/%: scenarios/%.c scenarios/common.h | $(OUT)/scenarios
	$(CC) $(CFLAGS) -pthread -o $@ $< -ldl

$(OUT)/scenarios/python_memory.py: scenarios/python_memory.py | $(OUT)/scenarios
	cp $< $@
