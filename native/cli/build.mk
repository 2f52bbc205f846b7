# stasis-client: the native command-line client of the coordinator's control socket.
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(patsubst cli/%.c,$(OUT)/obj/cli/%.o,$(CLI_SRCS))
CLI_BIN  := $(OUT)/bin/stasis-client

BINS   += $(CLI_BIN)
CHECKS += check-cli

$(OUT)/obj/cli:
	mkdir -p $@

$(OUT)/obj/cli/%.o: cli/%.c | $(OUT)/obj/cli
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(CLI_BIN): $(CLI_OBJS) | $(OUT)/bin
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS)

-include $(CLI_OBJS:.o=.d)

.PHONY: check-cli
check-cli: $(CLI_BIN)
	python3 cli/test_client.py $(abspath $(CLI_BIN))
