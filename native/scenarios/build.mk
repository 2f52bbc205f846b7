# scenario programs for the checkpoint/restart tests
SCEN_C    := $(basename $(notdir $(wildcard scenarios/*.c)))
SCEN_PY   := $(notdir $(wildcard scenarios/*.py))
SCEN_BINS := $(addprefix $(OUT)/scenarios/,$(SCEN_C) $(SCEN_PY))

BINS += $(SCEN_BINS)

$(OUT)/scenarios/%: scenarios/%.c scenarios/common.h | $(OUT)/scenarios
	$(CC) $(CFLAGS) -pthread -o $@ $< -ldl -lrt

$(OUT)/scenarios/%.py: scenarios/%.py | $(OUT)/scenarios
	cp $< $@
