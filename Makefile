# scg: synthetic conversation generator. `make`, `make check`, `make demo`.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
BUILD   ?= build

# The libraries, through pkg-config. One that is missing stops make here,
# by name; the targets that install or need none of them run without.
PKGS     = libcurl jansson yaml-0.1 libxxhash libmicrohttpd libpcre2-8 zlib
ifneq ($(filter-out deps demo clean lint-man,$(or $(MAKECMDGOALS),all)),)
MISSING := $(shell for p in $(PKGS); do pkg-config --exists $$p || echo $$p; done)
$(if $(MISSING),$(error pkg-config does not find $(MISSING): `make deps` installs what scg needs))
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Ilib -I$(BUILD) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS     = $(PKG_LIBS) -lm -lpthread

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/prompts.o $(BUILD)/report-assets.o
MOCK_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard mock/*.c))
PROGS    = $(patsubst cmd/%.c,$(BUILD)/bin/%,$(wildcard cmd/*.c)) $(BUILD)/bin/scg-mock
TESTS    = $(patsubst test/%.c,$(BUILD)/test/%,$(wildcard test/*.c))
PROMPTS  = $(sort $(wildcard prompts/*.txt))
REPORT   = $(sort $(wildcard report/*))
MAN1     = $(wildcard man/*.1)
MAN7     = $(wildcard man/*.7)
# the workflows (pipelines/NAME, installed as scg-NAME) and the shell
# library they share (installed in $(DATADIR)/scg, beside the examples)
SCRIPTS  = $(filter-out pipelines/lib,$(wildcard pipelines/*))

# The programs, and the test drivers of test/*.c (test/lib.bats,
# test/scg-turn-script.bats) that link the library the same way.
all: $(PROGS) $(TESTS)

# Every object beside a .d file naming the headers it includes, so that
# changing a header rebuilds only what includes it.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d)

$(BUILD)/prompts.c: $(PROMPTS) build-aux/embed-prompts.sh
	@mkdir -p $(@D)
	sh build-aux/embed-prompts.sh $(PROMPTS) > $@.tmp && mv $@.tmp $@

$(BUILD)/prompts.o: $(BUILD)/prompts.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# scg-report's page (HTML, CSS, JS), compiled in the same way
$(BUILD)/report-assets.c: $(REPORT) build-aux/embed-prompts.sh
	@mkdir -p $(@D)
	sh build-aux/embed-prompts.sh -s scg_report_assets $(REPORT) > $@.tmp && mv $@.tmp $@

$(BUILD)/report-assets.o: $(BUILD)/report-assets.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libscg.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BUILD)/bin/%: $(BUILD)/obj/cmd/%.o $(BUILD)/libscg.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# scg-mock, the test server, is a folder of its own
$(BUILD)/bin/scg-mock: $(MOCK_OBJ) $(BUILD)/libscg.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/%: $(BUILD)/obj/test/%.o $(BUILD)/libscg.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The tests run twice: on the normal build, then on one with
# AddressSanitizer and UndefinedBehaviorSanitizer.
check: all
	SCG_BIN=$(CURDIR)/$(BUILD)/bin bats test
	$(MAKE) check-asan
	$(MAKE) check-poll
	$(MAKE) check-curl

check-asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	SCG_BIN=$(CURDIR)/build/asan/bin SCG_SANITIZED=1 bats test

# The event loop on poll() instead of epoll (lib/exec-events.c), as on
# systems without epoll, against the tests of the client and commands.
check-poll:
	$(MAKE) BUILD=build/poll CFLAGS="$(CFLAGS) -DSCG_POLL" all
	SCG_BIN=$(CURDIR)/build/poll/bin bats test/client.bats test/endpoint-cmd.bats test/retry.bats test/http.bats

# Requests to http:// servers, the tests' scg-mock among them, go through
# scg's own HTTP/1.1 client (lib/exec-h1.c); https and proxies through
# libcurl. The tests of retries, faults and bounds again through libcurl.
check-curl: all
	SCG_HTTP=curl SCG_BIN=$(CURDIR)/$(BUILD)/bin bats test/retry.bats test/hostile.bats test/client.bats

lint-man:
	@out=$$(mandoc -Tlint -W warning $(MAN1) $(MAN7)); [ -z "$$out" ] || { echo "$$out"; exit 1; }

# Each pipeline is installed with the path of its library written in.
install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)/scg
	cp $(PROGS) $(DESTDIR)$(BINDIR)/
	cp pipelines/lib/scg-pipeline.sh $(DESTDIR)$(DATADIR)/scg/
	for s in $(SCRIPTS); do t=$(DESTDIR)$(BINDIR)/scg-$$(basename $$s); \
		sed 's|^pl_lib=.*|pl_lib=$(DATADIR)/scg/scg-pipeline.sh|' $$s >$$t && chmod 755 $$t || exit 1; done
	rm -rf $(DESTDIR)$(DATADIR)/scg/examples
	cp -R examples $(DESTDIR)$(DATADIR)/scg/examples
	[ -z "$(MAN1)" ] || cp $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	[ -z "$(MAN7)" ] || cp $(MAN7) $(DESTDIR)$(MANDIR)/man7/

deps:
	sh build-aux/deps.sh

# libFuzzer targets (clang): each runs FUZZ_SECONDS on a corpus seeded
# from fuzz/seeds/NAME and the tests' inputs (test/bad, test/fixtures,
# examples); what it finds is kept in build/fuzz/corpus-NAME.
FUZZ_SECONDS ?= 60
FUZZ_BIN = $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/*.c))
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

build/fuzz/%: fuzz/%.c $(LIB_SRC) lib/*.h $(BUILD)/prompts.c $(BUILD)/report-assets.c
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(BUILD)/prompts.c $(BUILD)/report-assets.c $(LDLIBS)

# A crash stops the run with the target's exit status; its input is kept
# as build/fuzz/NAME-crash-*, and the whole log in build/fuzz/NAME.log.
fuzz: $(FUZZ_BIN)
	@for t in $(FUZZ_BIN); do n=$$(basename $$t); mkdir -p build/fuzz/corpus-$$n; \
	echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=build/fuzz/$$n- \
		build/fuzz/corpus-$$n fuzz/seeds/$$n test/bad test/fixtures examples >build/fuzz/$$n.log 2>&1; rc=$$?; \
	grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Done' build/fuzz/$$n.log; \
	if [ $$rc -ne 0 ]; then echo "fuzz: $$n failed (exit $$rc), see build/fuzz/$$n.log" >&2; exit $$rc; fi; done

demo: deps
	$(MAKE) all
	sh build-aux/demo.sh $(BUILD)/bin

bench: all
	sh bench/run.sh $(BUILD)/bin

clean:
	rm -rf $(BUILD) build

.PHONY: all check check-asan check-poll check-curl lint-man install deps demo bench fuzz clean
.SECONDARY:
