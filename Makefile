# scg: synthetic conversation generator. `make`, `make check`, `make demo`.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
BUILD   ?= build

PKGS     = libcurl jansson yaml-0.1 libxxhash libmicrohttpd libpcre2-8 zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Ilib -I$(BUILD) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS     = $(PKG_LIBS) -lm -lpthread

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/prompts.o
PROGS    = $(patsubst cmd/%.c,$(BUILD)/bin/%,$(wildcard cmd/*.c))
PROMPTS  = $(sort $(wildcard prompts/*.txt))
MAN1     = $(wildcard man/*.1)
MAN7     = $(wildcard man/*.7)
SCRIPTS  = $(wildcard pipelines/*)

all: $(PROGS)

$(BUILD)/lib/%.o: lib/%.c lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/prompts.c: $(PROMPTS) build-aux/embed-prompts.sh
	@mkdir -p $(@D)
	sh build-aux/embed-prompts.sh $(PROMPTS) > $@.tmp && mv $@.tmp $@

$(BUILD)/prompts.o: $(BUILD)/prompts.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libscg.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BUILD)/bin/%: cmd/%.c $(BUILD)/libscg.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libscg.a $(LDFLAGS) $(LDLIBS)

# The tests run twice: on the normal build, then on one with
# AddressSanitizer and UndefinedBehaviorSanitizer.
check: all
	SCG_BIN=$(CURDIR)/$(BUILD)/bin bats test
	$(MAKE) check-asan

check-asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	SCG_BIN=$(CURDIR)/build/asan/bin SCG_SANITIZED=1 bats test

lint-man:
	@out=$$(mandoc -Tlint -W warning $(MAN1) $(MAN7)); [ -z "$$out" ] || { echo "$$out"; exit 1; }

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	cp $(PROGS) $(DESTDIR)$(BINDIR)/
	for s in $(SCRIPTS); do cp $$s $(DESTDIR)$(BINDIR)/scg-$$(basename $$s); done
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

build/fuzz/%: fuzz/%.c $(LIB_SRC) lib/*.h $(BUILD)/prompts.c
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(BUILD)/prompts.c $(LDLIBS)

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

.PHONY: all check check-asan lint-man install deps demo bench fuzz clean
.SECONDARY:

# test/script-map drives lib/script.c from fixture answers (test/scg-turn-script.bats)
all: $(BUILD)/test/script-map
$(BUILD)/test/%: test/%.c $(BUILD)/libscg.a lib/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libscg.a $(LDFLAGS) $(LDLIBS)
