# fcgi-oauth: one Makefile.
#
#   make            build/oauth.fcgi and build/oauthctl
#   make check      install missing packages, build, run every test
#   make run        install missing packages, build, serve a demo on 127.0.0.1
#   make bench-pg   LMDB and PostgreSQL through the same web server
#   make fuzz       libFuzzer runs of tests/fuzz (clang), FUZZ_TIME s each
#   make install    PREFIX (/usr/local) and DESTDIR honoured
#   make deb        the Debian package (debian/), in build/
#   make check-package  build, install, upgrade and purge it (as root)
#
# A sanitizer build of the same sources lands in build/asan (make asan).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
# Where make install puts oauth-jose.so.  oauth.fcgi looks for it beside
# itself (a build tree), in ../lib/fcgi-oauth from its own directory, and
# in MODULEDIR as the build had it (fcgi/fcgi_jose.c).
MODULEDIR ?= $(PREFIX)/lib/fcgi-oauth
BUILD ?= build

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wswitch-enum
PKGS = fcgi libcjson lmdb nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcrypto libseccomp \
	2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || \
	echo -lfcgi -lcjson -llmdb -lnettle)
# libseccomp: at build time only, to compile the sandbox's rules into the
# filters the program installs (fcgi/sandbox).
SECCOMP_LIBS := $(shell pkg-config --libs libseccomp 2>/dev/null || \
	echo -lseccomp)
# libcrypto: signing alone (common/jose.c), linked by oauthctl and the
# tests, and by oauth-jose.so, the module oauth.fcgi loads when a process
# may sign (fcgi/fcgi_jose.c), so that one which does not never maps it.
CRYPTO_LIBS := $(shell pkg-config --libs libcrypto 2>/dev/null || \
	echo -lcrypto)
MODULE_LIBS := $(shell pkg-config --libs libcjson nettle 2>/dev/null || \
	echo -lcjson -lnettle)
# libpq: its header to build, but loaded at run time only by a process
# that opens a PostgreSQL database (storage/store_pg_lib.c); the tests of
# the PostgreSQL backend also call it directly.
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || \
	echo -I/usr/include/postgresql)
PQ_LIBS := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -pthread \
	$(WARNINGS) $(PKG_CFLAGS) $(PQ_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = -pthread $(LDFLAGS) $(EXTRA_CFLAGS)

JOSE_SRC = common/jose.c common/jose_jwk.c
MODULE_SRC = common/jose_module.c
CORE_SRC = $(filter-out $(JOSE_SRC) $(MODULE_SRC),\
	$(wildcard common/*.c storage/*.c handlers/*.c))
ADAPTER_SRC = $(filter-out fcgi/fcgi_main.c fcgi/fcgi_jose.c,\
	$(wildcard fcgi/*.c))
# The module's own copies of what jose.c calls, built position-independent.
MODULE_PIC = $(JOSE_SRC) $(MODULE_SRC) common/jose_names.c common/buf.c \
	common/b64.c common/crypto.c common/json.c common/urlenc.c \
	common/process_id.c
CTL_SRC = $(wildcard ctl/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)

CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/obj/%.o) \
	$(BUILD)/obj/gen/fcgi_sandbox_filters.o
JOSE_OBJ = $(JOSE_SRC:%.c=$(BUILD)/obj/%.o)
MODULE_OBJ = $(MODULE_PIC:%.c=$(BUILD)/pic/%.o)
# The core with jose.c, for what links libcrypto: each calls the other.
CORE_JOSE = -Wl,--start-group $(BUILD)/libcore.a $(BUILD)/libjose.a \
	-Wl,--end-group
ADAPTER_OBJ = $(ADAPTER_SRC:%.c=$(BUILD)/obj/%.o)
CTL_OBJ = $(CTL_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
HEADERS = $(wildcard common/*.h storage/*.h handlers/*.h fcgi/*.h \
	fcgi/sandbox/*.h ctl/*.h)

.PHONY: all check asan deps run install uninstall clean bench bench-peers bench-pg \
	units reliability fuzz deb check-package

all: $(BUILD)/oauth.fcgi $(BUILD)/oauth-jose.so $(BUILD)/oauthctl

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(OBJ_DEFS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

# The sandbox's filters, compiled from its rules by a program built here.
$(BUILD)/gen/fcgi_sandbox_gen: fcgi/sandbox/fcgi_sandbox_gen.c \
	fcgi/sandbox/fcgi_sandbox_rules.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ fcgi/sandbox/fcgi_sandbox_gen.c \
		fcgi/sandbox/fcgi_sandbox_rules.c $(SECCOMP_LIBS)

$(BUILD)/gen/fcgi_sandbox_filters.c: $(BUILD)/gen/fcgi_sandbox_gen
	$(BUILD)/gen/fcgi_sandbox_gen >$@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/fcgi_sandbox_filters.o: $(BUILD)/gen/fcgi_sandbox_filters.c \
	fcgi/fcgi_sandbox_filters.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ifcgi -c -o $@ $<

$(BUILD)/libjose.a: $(JOSE_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/oauth-jose.so: $(MODULE_OBJ)
	$(CC) $(ALL_LDFLAGS) -shared $(if $(findstring sanitize,$(EXTRA_CFLAGS)),,\
		-Wl,-z,defs) -o $@ $^ $(MODULE_LIBS) $(CRYPTO_LIBS)

$(BUILD)/libcore.a: $(CORE_OBJ) $(ADAPTER_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# The program and the module it loads are built together.
$(BUILD)/oauth.fcgi: $(BUILD)/obj/fcgi/fcgi_main.o $(BUILD)/obj/fcgi/fcgi_jose.o \
	$(BUILD)/libcore.a $(BUILD)/oauth-jose.so
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/obj/fcgi/fcgi_main.o \
		$(BUILD)/obj/fcgi/fcgi_jose.o $(BUILD)/libcore.a $(PKG_LIBS) -ldl

$(BUILD)/obj/fcgi/fcgi_jose.o: OBJ_DEFS = \
	-DFCGI_JOSE_MODULEDIR='"$(MODULEDIR)"'


$(BUILD)/oauthctl: $(CTL_OBJ) $(BUILD)/libjose.a $(BUILD)/libcore.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CTL_OBJ) $(CORE_JOSE) $(PKG_LIBS) \
		$(CRYPTO_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) \
	$(BUILD)/libjose.a $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(CORE_JOSE) \
		$(PKG_LIBS) $(CRYPTO_LIBS) $(PQ_LIBS) \
		$(CMOCKA_LIBS)

# Fuzz harnesses build as plain programs that replay files (tests/fuzz/
# corpus); with clang, FUZZ_CFLAGS=-fsanitize=fuzzer,address makes them
# libFuzzer targets, and -fsanitize=fuzzer-no-link in EXTRA_CFLAGS gives
# the fuzzer the coverage of the library too (make fuzz does both).
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(BUILD)/libjose.a \
	$(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(if $(FUZZ_CFLAGS),,tests/fuzz/replay.c) $(CORE_JOSE) \
		$(PKG_LIBS) $(CRYPTO_LIBS)

units: $(UNIT_BIN) $(FUZZ_BIN)

deps:
	@sh scripts/deps.sh

# Builds into build/libfuzzer; the committed corpora grow by merging.
fuzz:
	@sh tests/fuzz/run.sh

check: deps
	@$(MAKE) --no-print-directory all units
	@$(MAKE) --no-print-directory asan
	@sh tests/check.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan \
		CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		all units

run: deps all
	@sh scripts/demo.sh

$(BUILD)/bench/%: bench/%.c $(BUILD)/libjose.a $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(CORE_JOSE) \
		$(PKG_LIBS) $(CRYPTO_LIBS)

# The reliability suites (tests/reliability): minutes, not part of check.
$(BUILD)/tests/reliability/%: tests/reliability/%.c \
	$(wildcard tests/unit/*.h) $(BUILD)/libjose.a $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(CORE_JOSE) \
		$(PKG_LIBS) $(CRYPTO_LIBS) $(CMOCKA_LIBS)

reliability:
	@RELIABILITY=1 sh scripts/deps.sh
	@$(MAKE) --no-print-directory all $(BUILD)/tests/reliability/race
	@BUILD=$(BUILD) sh tests/reliability/run.sh

bench: all $(BUILD)/bench/bench_handlers $(BUILD)/bench/hello_fcgi \
	$(BUILD)/bench/sha256_speed
	@BUILD=$(BUILD) sh bench/run.sh
	@BUILD=$(BUILD) sh bench/limit.sh

# LMDB and PostgreSQL through the same lighttpd (bench/pg.sh).
bench-pg: all $(BUILD)/bench/bench_handlers
	@BUILD=$(BUILD) sh bench/pg.sh

bench-peers: all $(BUILD)/bench/bench_handlers
	@sh bench/peer_glewlwyd.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/oauth.fcgi $(DESTDIR)$(SBINDIR)/oauth.fcgi
	install -m 0755 $(BUILD)/oauthctl $(DESTDIR)$(BINDIR)/oauthctl
	install -d $(DESTDIR)$(MODULEDIR)
	install -m 0644 $(BUILD)/oauth-jose.so $(DESTDIR)$(MODULEDIR)/oauth-jose.so
	for m in docs/*.8; do \
		[ -f "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man8/ ; \
	done; true

# The Debian package, built by dpkg-buildpackage in a copy of the tree
# (build/deb/fcgi-oauth) so that the tree stays clean; the .deb lands in
# build/.  nocheck: the test suite is make check's (debian/rules).
deb:
	rm -rf build/deb build/fcgi-oauth_*.deb
	mkdir -p build/deb/fcgi-oauth
	tar cf - --anchored --exclude=./build --exclude=./.git . | \
		tar xf - -C build/deb/fcgi-oauth
	cd build/deb/fcgi-oauth && DEB_BUILD_OPTIONS=nocheck \
		dpkg-buildpackage -us -uc -b
	cp build/deb/fcgi-oauth_*.deb build/

# Installs the package on this machine (root, throwaway), runs it under
# Apache, upgrades and purges it: tests/package/test_package.sh.
check-package:
	@PACKAGE=1 sh scripts/deps.sh
	@sh tests/package/test_package.sh

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/oauth.fcgi $(DESTDIR)$(BINDIR)/oauthctl \
		$(DESTDIR)$(MODULEDIR)/oauth-jose.so \
		$(DESTDIR)$(MANDIR)/man8/oauth.fcgi.8 \
		$(DESTDIR)$(MANDIR)/man8/oauthctl.8

clean:
	rm -rf build
