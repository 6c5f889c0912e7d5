# mtcr-rules — one entry point: deps, all, demo, test, bench, install, clean.
#
#   make demo    installs missing build packages, builds, checks the sample shipments
#   make test    installs missing build packages, builds, runs every test
#
# Variables: CC, CFLAGS, SAN=1 (ASan+UBSan build in build-san/), PREFIX, DESTDIR.

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=

ifeq ($(SAN),1)
BUILD   := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1
else
BUILD   := build
SANFLAGS :=
OPT     := -O2
endif

WARN    := -Wall -Wextra -Wno-unused-parameter
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -fvisibility=hidden -fPIC \
              -Iinclude -I. -I$(BUILD)/gen -D_GNU_SOURCE
LDLIBS  := -lz -lm -lpthread
VERSION := $(shell sed -n 's/^#define MTCR_VERSION "\(.*\)"/\1/p' include/mtcr.h)
LDFLAGS += $(SANFLAGS)

# Debian packages the build and the tests use.
DEB_PKGS := flex bison libcmocka-dev zlib1g-dev llvm-16-dev pkg-config

LIB_SRCS := $(wildcard runtime/*.c) $(wildcard compiler/*.c) parser/ast.c
GEN_SRCS := $(BUILD)/gen/lexer.c $(BUILD)/gen/parser.c $(BUILD)/gen/stdlib_embed.c
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS)) $(GEN_SRCS:.c=.o)
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS))
STDLIB_FILES := $(sort $(shell find stdlib -name '*.mtcr' 2>/dev/null))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

BIN := $(BUILD)/mtcr-rules
LIB := $(BUILD)/libmtcr.a

.PHONY: all deps demo test unit golden stdlib-test bench clean install san-test

all: $(BIN) $(LIB)

deps:
	@missing=""; \
	for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing missing Debian packages:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "make deps: every build package is installed ($(DEB_PKGS))"; \
	fi

demo: deps
	@$(MAKE) --no-print-directory all
	@echo "== mtcr-rules check examples/shipments.csv (built-in standard library) =="
	@$(BIN) check --format text --summary examples/shipments.csv; st=$$?; \
	 echo "== exit status $$st (1: findings at or above deny, 3: some rows rejected) =="; \
	 [ $$st -eq 0 ] || [ $$st -eq 1 ] || [ $$st -eq 3 ]

test: deps
	@$(MAKE) --no-print-directory all unit-bins
	@$(MAKE) --no-print-directory unit golden stdlib-test

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
	  echo "== $$t"; $$t || fail=1; \
	done; [ $$fail -eq 0 ]

golden: $(BIN)
	@MTCR=$(BIN) sh tests/golden/run.sh

stdlib-test: $(BIN)
	@echo "== mtcr-rules test (standard library)"
	@$(BIN) test

san-test:
	@$(MAKE) --no-print-directory SAN=1 all unit-bins
	@$(MAKE) --no-print-directory SAN=1 unit golden stdlib-test

bench: $(BIN)
	@sh bench/quick.sh $(BIN)

# ---- build rules ----------------------------------------------------------------

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The interpreter's steps are loops over a batch of rows; the Kleene-byte steps
# (NOT, AND, OR, rule outcomes) only pay off vectorized, which -O2 does not do for
# loops of a run-time length.  (Measured: bench/quick.sh and cachegrind.)
$(BUILD)/runtime/interp.o: ALL_CFLAGS += -ftree-vectorize -fvect-cost-model=dynamic

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -Wno-sign-compare -Wno-unused-function -MMD -MP -c $< -o $@

$(BUILD)/gen/lexer.c $(BUILD)/gen/lexer.h: lexer/lexer.l
	@mkdir -p $(BUILD)/gen
	flex --header-file=$(BUILD)/gen/lexer.h -o $(BUILD)/gen/lexer.c $<

$(BUILD)/gen/parser.c $(BUILD)/gen/parser.h: parser/parser.y
	@mkdir -p $(BUILD)/gen
	bison -Wall -Werror -d -o $(BUILD)/gen/parser.c $<

# the generated scanner and parser include each other's headers
$(BUILD)/gen/lexer.o: $(BUILD)/gen/parser.h
$(BUILD)/gen/parser.o: $(BUILD)/gen/lexer.h
$(BUILD)/parser/ast.o: $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.h

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -o $@ $<

# The standard library is embedded in the binary: path -> text table.
$(BUILD)/gen/stdlib_embed.c: $(BUILD)/tools/embed $(STDLIB_FILES)
	@mkdir -p $(BUILD)/gen
	$(BUILD)/tools/embed $(STDLIB_FILES) > $@

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) -lcmocka $(LDLIBS)

install: $(BIN) $(LIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	           $(DESTDIR)$(PREFIX)/share/mtcr-rules
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mtcr-rules
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libmtcr.a
	install -m 644 include/mtcr.h $(DESTDIR)$(PREFIX)/include/mtcr.h
	cp -r stdlib $(DESTDIR)$(PREFIX)/share/mtcr-rules/
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig
	printf 'prefix=%s\nName: mtcr\nDescription: missile nonproliferation rule sets (mtcr-rules)\nVersion: %s\nCflags: -I$${prefix}/include\nLibs: -L$${prefix}/lib -lmtcr\nLibs.private: $(LDLIBS)\n' \
	    '$(PREFIX)' '$(VERSION)' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mtcr.pc

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
