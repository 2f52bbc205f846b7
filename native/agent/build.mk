# libstasis-agent.so: the in-process agent (LD_PRELOAD)
AGENT_SRCS := $(wildcard agent/*.c)
AGENT_ASM  := agent/ctx.S
AGENT_OBJS := $(patsubst agent/%.c,$(OUT)/obj/agent/%.o,$(AGENT_SRCS)) $(OUT)/obj/agent/ctx.o \
              $(patsubst lib/%.c,$(OUT)/obj/lib/pic/%.o,$(wildcard lib/*.c))
AGENT_SO   := $(OUT)/lib/libstasis-agent.so
AGENT_CFLAGS := -fPIC -fno-stack-protector -fvisibility=hidden -fno-builtin -ftls-model=initial-exec

BINS += $(AGENT_SO)

$(OUT)/obj/agent/%.o: agent/%.c agent/agent.h $(wildcard include/stasis/*.h) | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AGENT_CFLAGS) -c -o $@ $<

$(OUT)/obj/agent/ctx.o: agent/ctx.S | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<

$(AGENT_SO): $(AGENT_OBJS) | $(OUT)/lib
	$(CC) -shared -o $@ $^ -ldl -lpthread -lzstd -Wl,-z,now
