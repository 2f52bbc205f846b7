# native/lib: helpers shared by the agent and the restorer (raw I/O, CRC32C), built
# freestanding: no libc, so the restorer's phase 2 and the agent's signal handlers
# may use them. Two builds: position-independent for the agent, plain for the
# (static) restorer. agent/build.mk and restore/build.mk name the objects.
LIB_SRCS   := $(wildcard lib/*.c)
LIB_CFLAGS := -ffreestanding -fno-builtin -fno-stack-protector

$(OUT)/obj/lib/pic/%.o: lib/%.c $(wildcard include/stasis/*.h) lib/build.mk | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(OUT)/obj/lib/static/%.o: lib/%.c $(wildcard include/stasis/*.h) lib/build.mk | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -fno-pie -c -o $@ $<
