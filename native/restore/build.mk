# stasis-restore (static, linked at 1 TiB so it never overlaps a saved area) and stasis-launch
RESTORE_SRCS := restore/main.c restore/plan.c restore/imgcheck.c restore/nsinit.c restore/fdtable.c restore/memory.c restore/tree.c restore/pipes.c \
                restore/shm.c restore/supervise.c restore/safeopen.c restore/front.c
RESTORE_OBJS := $(patsubst restore/%.c,$(OUT)/obj/restore/%.o,$(RESTORE_SRCS)) \
                $(OUT)/obj/restore/crc32c.o $(OUT)/obj/restore/rawio.o
RESTORE_BIN  := $(OUT)/bin/stasis-restore
LAUNCH_BIN   := $(OUT)/bin/stasis-launch
RESTORE_CFLAGS := -fno-stack-protector -fno-pie

BINS += $(RESTORE_BIN) $(LAUNCH_BIN)

$(OUT)/obj/restore/%.o: restore/%.c restore/*.h restore/build.mk $(wildcard include/stasis/*.h) | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RESTORE_CFLAGS) -c -o $@ $<

$(OUT)/obj/restore/%.o: agent/%.c agent/agent.h $(wildcard include/stasis/*.h) | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RESTORE_CFLAGS) -c -o $@ $<

$(RESTORE_BIN): $(RESTORE_OBJS) | $(OUT)/bin
	$(CC) -static -no-pie -Wl,-Ttext-segment=0x7e000000 -o $@ $^

$(LAUNCH_BIN): $(OUT)/obj/restore/launch.o $(OUT)/obj/restore/nsinit.o $(OUT)/obj/restore/front.o | $(OUT)/bin
	$(CC) -no-pie -o $@ $^
