# hookd - a webhook gateway. `make` builds ./hookd; `make run` starts it; `make test` tests it.
# Every dependency is found through pkg-config; scripts/deps.sh installs what is missing.

PKGS     := libmicrohttpd libcurl openssl sqlite3 jansson libuv libpq yaml-0.1 lua5.4 gnutls
CC       ?= cc
BUILD    ?= build
WERROR   ?= 0
PREFIX   ?= /usr/local

WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN     += -Werror
endif
OPT      ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Isrc -I$(BUILD)/gen -MMD -MP \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

LIB_SRC  := $(sort $(shell find src -name '*.c' ! -name main.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
# the dashboard: web/ (less its npm folder) becomes one generated C file
WEB_SRC  := $(sort $(shell find web -type f ! -path 'web/node_modules/*' ! -name 'package*.json' 2>/dev/null))
WEB_DIRS := $(shell find web -type d ! -path 'web/node_modules*' 2>/dev/null)
LIB_OBJ  += $(BUILD)/gen/ui_files.o
UNIT_SRC := $(sort $(shell find tests/unit -name '*_test.c' 2>/dev/null))
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)

HOOKD_OUT ?= hookd
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TIME ?= 10
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*_fuzz.c))

.PHONY: all deps run test unit unit-bins integration check clean install bench fuzz fuzz-bins bench-bins docs
all: $(HOOKD_OUT)

deps:
	@scripts/deps.sh build

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# the folders are prerequisites too, so adding or removing a file regenerates
$(BUILD)/gen/ui_files.c: scripts/embed.sh $(WEB_SRC) $(WEB_DIRS)
	@mkdir -p $(dir $@)
	scripts/embed.sh web $@ $(WEB_SRC)

$(BUILD)/gen/ui_files.o: $(BUILD)/gen/ui_files.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libhookd.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(HOOKD_OUT): $(BUILD)/src/main.o $(BUILD)/libhookd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libhookd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< $(BUILD)/libhookd.a $(LDLIBS) $(shell pkg-config --libs cmocka)

$(BUILD)/tests/fuzz/%: tests/fuzz/%.c $(BUILD)/libhookd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libhookd.a $(LDLIBS)

# make run: install what is missing, build, serve on 127.0.0.1:8071 with ./hookd.db
run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory $(HOOKD_OUT)
	./hookd serve --listen 127.0.0.1:8071 --db sqlite:./hookd.db

# make test: unit tests (cmocka) then integration tests (node --test), one summary line
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory $(HOOKD_OUT) unit-bins
	@tests/run.sh

unit-bins: $(UNIT_BIN)

unit: unit-bins
	@tests/run.sh unit

integration: $(HOOKD_OUT)
	@tests/run.sh integration

# make check: the unit and integration suites on an ASan + UBSan build (leaks fail too)
check:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory BUILD=build-asan HOOKD_OUT=build-asan/hookd CC=clang \
		OPT="-O1 -g $(SAN)" LDFLAGS="$(SAN)" build-asan/hookd unit-bins
	@BUILD=build-asan HOOKD_BIN=build-asan/hookd ASAN_OPTIONS=detect_leaks=1 tests/run.sh

# make bench: the delivery engine's benchmark (bench/run.sh), figures in bench/results.md
BENCH_BIN := $(BUILD)/bench/sink $(BUILD)/bench/blast $(BUILD)/bench/pub

bench:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory $(HOOKD_OUT) bench-bins
	@bench/run.sh

bench-bins: $(BENCH_BIN)

$(BUILD)/bench/sink: bench/sink.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -o $@ $< -lpthread

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(shell pkg-config --cflags libcurl) -o $@ $< \
		$(shell pkg-config --libs libcurl)

# make install: the binary and its man pages under $(DESTDIR)$(PREFIX)
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
install: $(HOOKD_OUT)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(HOOKD_OUT) $(DESTDIR)$(PREFIX)/bin/hookd
	install -m 0644 docs/man/hookd.1 $(DESTDIR)$(MANDIR)/man1/hookd.1
	install -m 0644 docs/man/hookd-serve.8 $(DESTDIR)$(MANDIR)/man8/hookd-serve.8
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' contrib/hookd.service.in > $(DESTDIR)$(UNITDIR)/hookd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/hookd.service
	install -m 0644 contrib/hookd.sysusers $(DESTDIR)$(SYSUSERSDIR)/hookd.conf

# make fuzz: every libFuzzer target for FUZZ_TIME seconds, on a copy of its committed corpus
fuzz-bins: $(FUZZ_SRC:%.c=$(BUILD)/%)

fuzz:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
		OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" fuzz-bins
	@tests/fuzz/run.sh build-fuzz $(FUZZ_TIME)

# make docs: docs/config.md, printed by the binary from its own option tables
# (tests/integration/docs.test.mjs fails when the committed file differs)
docs: $(HOOKD_OUT)
	$(abspath $(HOOKD_OUT)) help --markdown > docs/config.md

clean:
	rm -rf $(BUILD) build-asan build-fuzz hookd

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d $(UNIT_BIN:=.d) $(FUZZ_SRC:%.c=$(BUILD)/%.d)
