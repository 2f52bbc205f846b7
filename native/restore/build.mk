# stasis-restore (static, linked at 1 TiB so it never overlaps a saved area) and stasis-launch
RESTORE_SRCS := restore/main.c restore/plan.c restore/imgcheck.c restore/nsinit.c restore/fdtable.c restore/memory.c restore/tree.c restore/pipes.c \
                restore/shm.c restore/supervise.c restore/safeopen.c restore/front.c restore/verify.c restore/chain.c restore/compact.c \
                restore/inflate.c restore/workers.c
RESTORE_LIB  := $(patsubst lib/%.c,$(OUT)/obj/lib/static/%.o,$(wildcard lib/*.c))
# phase 2 (after the old address space is gone): freestanding, see restore/phase2.c
PHASE2_OBJS  := $(OUT)/obj/restore/phase2.o $(OUT)/obj/lib/static/rawio.o
PHASE2_CFLAGS := -ffreestanding -fno-builtin
RESTORE_OBJS := $(patsubst restore/%.c,$(OUT)/obj/restore/%.o,$(RESTORE_SRCS)) $(OUT)/obj/restore/phase2.o $(RESTORE_LIB)
RESTORE_BIN  := $(OUT)/bin/stasis-restore
LAUNCH_BIN   := $(OUT)/bin/stasis-launch
RESTORE_CFLAGS := -fno-stack-protector -fno-pie

BINS += $(RESTORE_BIN) $(LAUNCH_BIN)

$(OUT)/obj/restore/%.o: restore/%.c restore/*.h restore/build.mk $(wildcard include/stasis/*.h) | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RESTORE_CFLAGS) -c -o $@ $<

$(OUT)/obj/restore/phase2.o: restore/phase2.c restore/phase2.h restore/build.mk $(wildcard include/stasis/*.h) | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RESTORE_CFLAGS) $(PHASE2_CFLAGS) -c -o $@ $<

# `make check`: phase 2 and the helpers it uses, linked as one unit, may leave
# undefined only what restore/phase2.allow lists (no libc: fprintf, strerror, memcpy
# emitted by the compiler... would run after libc's memory is gone)
CHECKS += check-phase2
.PHONY: check-phase2
check-phase2: $(PHASE2_OBJS)
	$(LD) -r -o $(OUT)/obj/restore/phase2-unit.o $(PHASE2_OBJS)
	@bad=$$(nm -u $(OUT)/obj/restore/phase2-unit.o | awk '{print $$2}' | grep -vxF -f restore/phase2.allow || true); \
	if [ -n "$$bad" ]; then \
	  echo "restore/phase2.c references symbols outside restore/phase2.allow (libc after the address space is gone?): $$(echo $$bad)"; \
	  exit 1; \
	fi

$(RESTORE_BIN): $(RESTORE_OBJS) | $(OUT)/bin
	$(CC) -static -no-pie -Wl,-Ttext-segment=0x7e000000 -o $@ $^ -l:libzstd.a

$(LAUNCH_BIN): $(OUT)/obj/restore/launch.o $(OUT)/obj/restore/nsinit.o $(OUT)/obj/restore/front.o | $(OUT)/bin
	$(CC) -no-pie -o $@ $^
