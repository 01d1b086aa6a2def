# ktls-offload top-level build.  `make help` lists the targets.

BUILD	?= build
CC	?= cc
CFLAGS	?= -O2 -g
WARN	:= -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -Iinclude/uapi -Iinclude -Iagent
PKGS	:= libnl-genl-3.0 gnutls inih libcap
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) -MMD -MP

# Kernel module: KDIR defaults to the running kernel's build directory, else
# the newest installed Debian 6.12 headers.
KDIR	?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
		       $(shell tests/vm/kernels.sh --kdir 6.12 2>/dev/null))

DEPS	:= scripts/deps.sh

PREFIX	?= /usr/local
PROGS	:= $(BUILD)/bin/ktlsctl $(BUILD)/bin/ktls-agent $(BUILD)/bin/ktls-serve
LIBKTLS_SOVERSION := 0
LIBS	:= $(BUILD)/lib/libktls.so $(BUILD)/lib/libktls.a $(BUILD)/lib/pkgconfig/ktls.pc
GUEST_PROGS := $(BUILD)/tests/ktls_sendfile $(BUILD)/tests/broker_test \
	       $(BUILD)/tests/handoff_server $(BUILD)/tests/handoff_client \
	       $(BUILD)/tests/flight_client
UNIT_TESTS := $(BUILD)/tests/unit_keyinstall $(BUILD)/tests/unit_http $(BUILD)/tests/unit_sockmsg

ktlsctl_OBJS := ktlsctl.o ktlsctl_version.o genl.o
# libktls: position-independent, only the <ktls-offload/ktls.h> API exported
libktls_OBJS := libktls.o sockmsg.o broker.o genl.o keyinstall.o
LIB_OBJS := $(addprefix $(BUILD)/lib/obj/,$(libktls_OBJS))
agent_OBJS := ktls-agent.o worker.o tls.o handoff.o config.o log.o broker.o genl.o \
	      keyinstall.o loopback.o sockmsg.o usock.o

.PHONY: all deps kmod kmods check check-host check-guest demo bench clean help
all: deps $(PROGS) $(LIBS) $(GUEST_PROGS) $(UNIT_TESTS)

help:
	@echo "make            build the userspace programs into $(BUILD)/"
	@echo "make kmod       build kmod/ktls_offload.ko against KDIR ($(KDIR))"
	@echo "make check      host unit tests + guest tests on every test kernel"
	@echo "make demo       show kernel TLS at work in the QEMU guest"
	@echo "make deps       install build and test packages (apt, as root)"
	@echo "tests/vm/run-guest --help   run single guest tests (debugging)"

deps:
	@$(DEPS)

$(BUILD)/agent/%.o: agent/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/lib/obj/%.o: agent/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/lib/libktls.so.$(LIBKTLS_SOVERSION): $(LIB_OBJS)
	$(CC) $(CFLAGS) -shared -Wl,-soname,libktls.so.$(LIBKTLS_SOVERSION) -Wl,-z,defs \
		-o $@ $^ $(shell pkg-config --libs libnl-genl-3.0)

$(BUILD)/lib/libktls.so: $(BUILD)/lib/libktls.so.$(LIBKTLS_SOVERSION)
	ln -sf $(<F) $@

$(BUILD)/lib/libktls.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/lib/pkgconfig/ktls.pc: dist/ktls.pc.in include/ktls-offload/version.h
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e "s|@VERSION@|$$(sed -n 's/.*KTLS_OFFLOAD_VERSION \"\(.*\)\"/\1/p' include/ktls-offload/version.h)|" \
	    $< > $@

$(BUILD)/tests/%.o: tests/*/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/bin/ktlsctl: $(addprefix $(BUILD)/agent/,$(ktlsctl_OBJS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bin/ktls-serve: $(BUILD)/agent/ktls-serve.o $(BUILD)/agent/http.o $(BUILD)/lib/libktls.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/bin/ktls-agent: $(addprefix $(BUILD)/agent/,$(agent_OBJS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/ktls_sendfile: $(BUILD)/tests/ktls_sendfile.o $(BUILD)/agent/loopback.o $(BUILD)/agent/keyinstall.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/broker_test: $(BUILD)/tests/broker_test.o $(BUILD)/agent/loopback.o $(addprefix $(BUILD)/agent/,broker.o genl.o keyinstall.o)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/handoff_server: $(BUILD)/tests/handoff_server.o $(BUILD)/lib/libktls.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/handoff_client: $(BUILD)/tests/handoff_client.o $(BUILD)/lib/libktls.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/flight_client: $(BUILD)/tests/flight_client.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit_http: $(BUILD)/tests/unit_http.o $(BUILD)/agent/http.o
	$(CC) $(CFLAGS) -o $@ $^

$(BUILD)/tests/unit_sockmsg: $(BUILD)/tests/unit_sockmsg.o $(BUILD)/lib/libktls.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit_keyinstall: $(BUILD)/tests/unit_keyinstall.o $(BUILD)/agent/keyinstall.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# One module build per kernel, each in its own copy of the sources so that
# builds for different kernels never share objects.
kmod: deps
	@test -n "$(KDIR)" || { echo "no kernel build directory: set KDIR" >&2; exit 1; }
	@scripts/build-kmod.sh "$(KDIR)" "$(BUILD)/kmod"

kmods: deps
	@for kdir in $$(tests/vm/kernels.sh --kdir); do \
		scripts/build-kmod.sh "$$kdir" "$(BUILD)/kmod" || exit 1; done

check: all kmods
	@tests/run-check.sh

check-host: all
	@tests/run-check.sh --host-only

demo: all kmods
	@tests/demo.sh

clean:
	rm -rf $(BUILD)
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd kmod/modules.order \
	      modules.order Module.symvers .*.cmd kmod/Module.symvers

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
