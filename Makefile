# ktls-offload top-level build.  `make help` lists the targets.

BUILD	?= build
CC	?= cc
CFLAGS	?= -O2 -g
WARN	:= -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -Iinclude/uapi -Iinclude -Iagent/common
# the tests also reach into the programs' own headers
TEST_CPPFLAGS := -Iagent/daemon -Iagent/serve -Iagent/libktls -Itests/lib
PKGS	:= libnl-genl-3.0 gnutls inih libcap libkeyutils
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# SANITIZE=1: the ASan+UBSan build (make check builds one in $(BUILD)/asan)
ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) -MMD -MP

# Kernel module: KDIR defaults to the running kernel's build directory, else
# the newest installed Debian 6.12 headers.
KDIR	?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
		       $(shell tests/vm/kernels.sh --kdir 6.12 2>/dev/null))

DEPS	:= scripts/deps.sh
# (deps: everything, test kernels included; deps-build: what building
# the programs, libraries and the module for KDIR needs)

PREFIX	?= /usr/local
PROGS	:= $(BUILD)/bin/ktlsctl $(BUILD)/bin/ktls-agent $(BUILD)/bin/ktls-serve
LIBKTLS_SOVERSION := 1
LIBS	:= $(BUILD)/lib/libktls.so $(BUILD)/lib/libktls.a $(BUILD)/lib/pkgconfig/ktls.pc \
	   $(BUILD)/lib/libktls-preload.so
GUEST_PROGS := $(BUILD)/tests/ktls_sendfile $(BUILD)/tests/nicsim_pair $(BUILD)/tests/broker_test \
	       $(BUILD)/tests/handoff_server $(BUILD)/tests/handoff_client \
	       $(BUILD)/tests/flight_client $(BUILD)/tests/aead_speed $(BUILD)/tests/idle_client \
	       $(BUILD)/tests/inproc_serve $(BUILD)/tests/switch_cost $(BUILD)/tests/load_client $(BUILD)/tests/ktls_recv \
	       $(BUILD)/tests/kmod_hostile $(BUILD)/tests/kstress $(BUILD)/tests/linger_requester \
	       $(BUILD)/tests/conform_client $(BUILD)/tests/keyupdate_client \
	       $(BUILD)/tests/fault_netlink.so
# (defined before "all", whose prerequisites are expanded where it stands)
FUZZERS	   := $(addprefix $(BUILD)/fuzz/,fuzz_http fuzz_config fuzz_netlink fuzz_sockmsg)
UNIT_TESTS := $(BUILD)/tests/unit_ktls_keys $(BUILD)/tests/unit_http $(BUILD)/tests/unit_sockmsg \
	      $(BUILD)/tests/unit_tls $(BUILD)/tests/unit_access $(BUILD)/tests/unit_tickets \
	      $(BUILD)/tests/unit_nic $(BUILD)/tests/unit_genl

# Objects per program, by folder of agent/ (common/: shared by several)
ktlsctl_OBJS := $(addprefix ktlsctl/,main.o version.o attach.o status.o sockets.o) \
		ktlsctl/sockdiag.o $(addprefix common/,addr.o broker.o genl.o ktls_keys.o nic.o parse.o)
# libktls: position-independent, only the <ktls-offload/ktls.h> API exported
libktls_OBJS := libktls/handoff.o libktls/record.o common/sockmsg.o common/broker.o common/genl.o common/ktls_keys.o
LIB_OBJS := $(addprefix $(BUILD)/lib/obj/,$(libktls_OBJS))
# the functions dist/libktls.map exports, in every version node
LIBKTLS_API = $(shell sed -n 's/^[[:space:]]*\(ktls_[a-z0-9_]*\);.*/\1/p' dist/libktls.map)
agent_OBJS := $(addprefix daemon/,main.o worker.o job.o requester.o tls.o tls_profile.o session_keys.o config.o upcall_config.o log.o \
	      usock.o access.o privs.o tickets.o upcall.o) \
	      $(addprefix common/,addr.o broker.o genl.o ktls_keys.o loopback.o msg.o nic.o parse.o schedpol.o sockmsg.o)
serve_OBJS := $(addprefix serve/,main.o conn.o response.o access_log.o http.o) common/msg.o common/parse.o common/schedpol.o

.PHONY: deb check-packages soak asan asan-build check-debug-kernel all deps deps-build kmod kmods check check-host check-guest demo bench bench-handshake fuzz fuzzers clean help install test-progs
all: deps-build $(PROGS) $(LIBS)
# the test programs (unit tests, guest tests, fuzzers): make check builds them
test-progs: deps all $(GUEST_PROGS) $(UNIT_TESTS) $(FUZZERS)

help:
	@echo "make            build the userspace programs into $(BUILD)/"
	@echo "make kmod       build kmod/ktls_offload.ko (and ktls_nicsim.ko) against KDIR ($(KDIR))"
	@echo "make check      host unit tests + guest tests on every test kernel"
	@echo "make check-debug-kernel  the module's guest tests on a KASAN/lockdep/kmemleak kernel"
	@echo "make demo       show kernel TLS at work in the QEMU guest"
	@echo "make bench      ktls-serve against nginx (userspace TLS and kTLS), in the guest"
	@echo "make bench-handshake  only its handshake rates (agent paths, in-process, nginx)"
	@echo "make soak       SOAK_SECONDS (default 600) of mixed traffic, checked, in the guest"
	@echo "make asan       the ASan+UBSan build, in $(BUILD)/asan"
	@echo "make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 60) each"
	@echo "make deps       install build and test packages (apt, as root); make deps-build:"
	@echo "                only what make, make kmod and make install need"
	@echo "make install    install programs, libktls and man pages into PREFIX ($(PREFIX))"
	@echo "make deb        Debian packages into $(BUILD)/deb/, checked by lintian"
	@echo "make check-packages  install them into a bookworm root and use them in the 6.12 guest"
	@echo "tests/vm/run-guest --help   run single guest tests (debugging)"

deps:
	@$(DEPS)

deps-build:
	@$(DEPS) --build

$(BUILD)/agent/%.o: agent/%.c | deps-build
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/lib/obj/%.o: agent/%.c | deps-build
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

# dist/libktls.map: the exported symbols and their versions (KTLS_1.0, ...)
$(BUILD)/lib/libktls.so.$(LIBKTLS_SOVERSION): $(LIB_OBJS) dist/libktls.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,libktls.so.$(LIBKTLS_SOVERSION) -Wl,-z,defs \
		-Wl,--version-script=dist/libktls.map \
		-o $@ $(LIB_OBJS) $(shell pkg-config --libs libnl-genl-3.0)

$(BUILD)/lib/libktls.so: $(BUILD)/lib/libktls.so.$(LIBKTLS_SOVERSION)
	ln -sf $(<F) $@

# LD_PRELOAD shim: listener mode at listen(), or the agent's socket
preload_OBJS := $(addprefix $(BUILD)/lib/obj/preload/,preload.o front.o conns.o) $(BUILD)/lib/obj/common/msg.o
$(BUILD)/lib/libktls-preload.so: $(preload_OBJS) $(LIB_OBJS) dist/preload.map
	$(CC) $(CFLAGS) -shared -Wl,-z,defs -Wl,--version-script=dist/preload.map \
		-o $@ $(preload_OBJS) $(LIB_OBJS) \
		$(shell pkg-config --libs libnl-genl-3.0) -ldl -lpthread

# The static library exports what the shared one does: its objects are
# linked into one, whose symbols but those of dist/libktls.map are local.
# (ktls-serve, the preload library and tests that use libktls's internals
# link $(LIB_OBJS) themselves.)
$(BUILD)/lib/libktls.a: $(LIB_OBJS) dist/libktls.map
	rm -f $@ $(BUILD)/lib/obj/libktls.o
	$(LD) -r -o $(BUILD)/lib/obj/libktls.o $(LIB_OBJS)
	objcopy $(patsubst %,--keep-global-symbol=%,$(LIBKTLS_API)) $(BUILD)/lib/obj/libktls.o
	ar rcs $@ $(BUILD)/lib/obj/libktls.o

MAKE_PC = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	-e "s|@VERSION@|$$(sed -n 's/.*KTLS_OFFLOAD_VERSION \"\(.*\)\"/\1/p' include/ktls-offload/version.h)|" \
	dist/ktls.pc.in

$(BUILD)/lib/pkgconfig/ktls.pc: dist/ktls.pc.in include/ktls-offload/version.h
	@mkdir -p $(@D)
	$(MAKE_PC) > $@

# an LD_PRELOAD shim for faults.t, without sanitizers in either build (the
# ASan runtime must come first among the libraries of the program)
$(BUILD)/tests/fault_netlink.so: tests/guest/fault_netlink.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

$(BUILD)/tests/%.o: tests/*/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TEST_CPPFLAGS) -c -o $@ $<

$(BUILD)/bin/ktlsctl: $(addprefix $(BUILD)/agent/,$(ktlsctl_OBJS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bin/ktls-serve: $(addprefix $(BUILD)/agent/,$(serve_OBJS)) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/bin/ktls-agent: $(addprefix $(BUILD)/agent/,$(agent_OBJS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/ktls_sendfile: $(BUILD)/tests/ktls_sendfile.o $(BUILD)/agent/common/loopback.o $(BUILD)/agent/common/ktls_keys.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/nicsim_pair: $(BUILD)/tests/nicsim_pair.o $(BUILD)/agent/common/ktls_keys.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/broker_test: $(BUILD)/tests/broker_test.o $(BUILD)/agent/common/loopback.o $(addprefix $(BUILD)/agent/,common/broker.o common/genl.o common/ktls_keys.o)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/kmod_hostile: $(BUILD)/tests/kmod_hostile.o $(BUILD)/tests/kgenl.o $(BUILD)/tests/ktest.o \
			     $(BUILD)/agent/common/ktls_keys.o
	$(CC) $(CFLAGS) -o $@ $^ -lpthread

$(BUILD)/tests/kstress: $(BUILD)/tests/kstress.o $(BUILD)/tests/kgenl.o $(BUILD)/tests/ktest.o $(BUILD)/agent/common/loopback.o \
			$(BUILD)/agent/common/ktls_keys.o
	$(CC) $(CFLAGS) -o $@ $^ -lpthread

$(BUILD)/tests/ktls_recv: $(BUILD)/tests/ktls_recv.o $(BUILD)/agent/common/loopback.o \
			   $(BUILD)/agent/common/ktls_keys.o $(BUILD)/lib/libktls.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/linger_requester: $(BUILD)/tests/linger_requester.o $(BUILD)/agent/common/loopback.o \
				  $(BUILD)/lib/libktls.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/handoff_server: $(BUILD)/tests/handoff_server.o $(BUILD)/lib/libktls.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/handoff_client: $(BUILD)/tests/handoff_client.o $(BUILD)/lib/libktls.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/inproc_serve: $(BUILD)/tests/inproc_serve.o $(addprefix $(BUILD)/agent/,daemon/tls.o daemon/tls_profile.o \
			      daemon/session_keys.o daemon/config.o daemon/upcall_config.o common/parse.o common/ktls_keys.o daemon/log.o common/msg.o common/loopback.o daemon/tickets.o) \
			      $(BUILD)/lib/libktls.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/aead_speed: $(BUILD)/tests/aead_speed.o
	$(CC) $(CFLAGS) -o $@ $^

$(BUILD)/tests/switch_cost: $(BUILD)/tests/switch_cost.o
	$(CC) $(CFLAGS) -o $@ $^ -lpthread

$(BUILD)/tests/idle_client: $(BUILD)/tests/idle_client.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/load_client: $(BUILD)/tests/load_client.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/flight_client: $(BUILD)/tests/flight_client.o $(BUILD)/tests/flight_io.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/conform_client: $(BUILD)/tests/conform_client.o $(BUILD)/tests/flight_io.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/keyupdate_client: $(BUILD)/tests/keyupdate_client.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit_http: $(BUILD)/tests/unit_http.o $(BUILD)/agent/serve/http.o
	$(CC) $(CFLAGS) -o $@ $^

$(BUILD)/tests/unit_sockmsg: $(BUILD)/tests/unit_sockmsg.o $(LIB_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit_nic: $(BUILD)/tests/unit_nic.o $(BUILD)/agent/common/nic.o $(BUILD)/agent/common/loopback.o
	$(CC) $(CFLAGS) -o $@ $^

$(BUILD)/tests/unit_genl: $(BUILD)/tests/unit_genl.o $(BUILD)/agent/common/genl.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit_ktls_keys: $(BUILD)/tests/unit_ktls_keys.o $(BUILD)/agent/common/ktls_keys.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit_access: $(BUILD)/tests/unit_access.o $(addprefix $(BUILD)/agent/,daemon/access.o \
			     daemon/config.o daemon/upcall_config.o common/parse.o daemon/log.o common/msg.o common/loopback.o)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit_tickets: $(BUILD)/tests/unit_tickets.o $(addprefix $(BUILD)/agent/,daemon/tls.o daemon/tls_profile.o \
			     daemon/session_keys.o daemon/config.o daemon/upcall_config.o common/parse.o common/ktls_keys.o daemon/log.o common/msg.o common/loopback.o daemon/tickets.o)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/unit_tls: $(BUILD)/tests/unit_tls.o $(addprefix $(BUILD)/agent/,daemon/tls.o daemon/tls_profile.o daemon/session_keys.o \
			  daemon/config.o daemon/upcall_config.o common/parse.o common/ktls_keys.o daemon/log.o common/msg.o common/loopback.o daemon/tickets.o)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# libFuzzer targets (tests/fuzz/): clang with ASan and UBSan, objects of
# their own in $(BUILD)/fuzz.
FUZZ_CC	   ?= clang
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	      -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=gnu11 $(WARN) -Wno-unused-function $(FUZZ_FLAGS) $(CPPFLAGS) $(PKG_CFLAGS) -MMD -MP

$(BUILD)/fuzz/obj/%.o: agent/%.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/%.o: tests/fuzz/%.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(TEST_CPPFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/fuzz_http: $(BUILD)/fuzz/fuzz_http.o $(BUILD)/fuzz/obj/serve/http.o
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^

$(BUILD)/fuzz/fuzz_config: $(BUILD)/fuzz/fuzz_config.o $(BUILD)/fuzz/obj/daemon/config.o $(BUILD)/fuzz/obj/daemon/upcall_config.o $(BUILD)/fuzz/obj/common/parse.o
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

$(BUILD)/fuzz/fuzz_netlink: $(BUILD)/fuzz/fuzz_netlink.o $(BUILD)/fuzz/obj/common/ktls_keys.o
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

$(BUILD)/fuzz/fuzz_sockmsg: $(BUILD)/fuzz/fuzz_sockmsg.o $(addprefix $(BUILD)/fuzz/obj/,common/sockmsg.o \
			     common/broker.o common/genl.o common/ktls_keys.o)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzzers: $(FUZZERS)

FUZZ_SECONDS ?= 60
fuzz: fuzzers
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

# One module build per kernel, each in its own copy of the sources so that
# builds for different kernels never share objects.
kmod: deps-build
	@test -n "$(KDIR)" || { echo "no kernel build directory: set KDIR" >&2; exit 1; }
	@scripts/build-kmod.sh "$(KDIR)" "$(BUILD)/kmod"

kmods: deps
	@for kdir in $$(tests/vm/kernels.sh --kdir); do \
		scripts/build-kmod.sh "$$kdir" "$(BUILD)/kmod" || exit 1; done

check: test-progs kmods asan
	@tests/run-check.sh

# The ASan+UBSan build of the programs and tests, in $(BUILD)/asan; make
# check runs the unit tests and the agent's and ktls-serve's guest tests
# with it too.
asan: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SANITIZE=1 asan-build
asan-build: $(PROGS) $(LIBS) $(GUEST_PROGS) $(UNIT_TESTS)

check-host: test-progs
	@tests/run-check.sh --host-only

# The module's guest tests on a debug kernel (KASAN, kmemleak, lockdep,
# DEBUG_OBJECTS, UBSAN), built once by scripts/debug-kernel.sh and cached
# outside the checkout.  Not part of make check (see doc/testing.md); run before
# resolving any change to kmod/.  kstress runs KSTRESS_DEBUG_SECONDS there
# (default 600; make check's pass is its default of 60).
KSTRESS_DEBUG_SECONDS ?= 600
check-debug-kernel: test-progs
	@kdir=$$(scripts/debug-kernel.sh) && \
	scripts/build-kmod.sh "$$kdir/src" "$(BUILD)/kmod" && \
	KTLS_TEST_TIMEOUT=3600 KTLS_BROKER_CYCLES=1000 KTLS_TIME_SCALE=5 KTLS_BIG_MIB=4 \
	KTLS_NICSIM_MIB=4 KTLS_NICSIM_SERVE_MIB=4 KSTRESS_SECONDS=$(KSTRESS_DEBUG_SECONDS) \
		tests/vm/run-guest -K "$$kdir" -m 3072 \
		-o "$(BUILD)/results/debug-kernel" module_load broker agent ktls_sendfile listener \
		kmod_hostile nicsim nicsim_hostile nicsim_serve kstress

demo: deps all kmods
	@tests/demo.sh

bench: test-progs kmods
	@tests/bench/run.sh

bench-handshake: test-progs kmods
	@tests/bench/run.sh --handshake

# Mixed traffic for SOAK_SECONDS (default 600) in the guest, on loopback:
# every response SHA-256-checked, RSS and descriptors sampled.
SOAK_SECONDS ?= 600
soak: test-progs kmods
	@SOAK_SECONDS=$(SOAK_SECONDS) tests/vm/run-guest -t $$(( $(SOAK_SECONDS) + 900 )) soak

# Installs into $(DESTDIR)$(PREFIX) (default /usr/local), the libraries into
# $(LIBDIR) (default $(PREFIX)/lib; the Debian packages use the multiarch
# directory); the module is installed with `make kmod` and `modules_install`
# of Kbuild (or with DKMS, dkms.conf), not here.
LIBDIR	?= $(PREFIX)/lib
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/ktls-offload $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BUILD)/bin/ktls-serve $(BUILD)/bin/ktlsctl $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(BUILD)/bin/ktls-agent $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 $(BUILD)/lib/libktls.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(BUILD)/lib/libktls.so.$(LIBKTLS_SOVERSION) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(BUILD)/lib/libktls-preload.so $(DESTDIR)$(LIBDIR)/
	ln -sf libktls.so.$(LIBKTLS_SOVERSION) $(DESTDIR)$(LIBDIR)/libktls.so
	$(MAKE_PC) > $(DESTDIR)$(LIBDIR)/pkgconfig/ktls.pc
	install -m 644 include/ktls-offload/ktls.h include/ktls-offload/agent-socket.h \
		include/ktls-offload/version.h $(DESTDIR)$(PREFIX)/include/ktls-offload/
	install -m 644 doc/ktls-serve.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 doc/ktls-agent.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 doc/ktls-agent.8 doc/ktlsctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/

# Debian packages (debian/) into $(BUILD)/deb/, built by dpkg-buildpackage
# from a copy of the tree, then checked by lintian (errors fail).  The
# packaging tools are installed here, not by make (scripts/deps.sh
# --packaging).  make check-packages: those packages installed into a
# debootstrapped bookworm root and used in the 6.12 guest (see
# doc/testing.md); not part of make check.
deb:
	@$(DEPS) --packaging
	@scripts/make-deb.sh "$(BUILD)"

check-packages: deps deb
	@scripts/check-packages.sh "$(BUILD)"

clean:
	rm -rf $(BUILD)
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd kmod/modules.order \
	      modules.order Module.symvers .*.cmd kmod/Module.symvers
	rm -f kmod/nicsim/*.o kmod/nicsim/.*.cmd

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
