# hookd - a webhook gateway. `make` builds ./hookd; `make run` starts it; `make test` tests it.
# Every dependency is found through pkg-config; scripts/deps.sh installs what is missing.

PKGS     := libmicrohttpd libcurl openssl sqlite3 jansson libuv libpq yaml-0.1 lua5.4
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
UNIT_SRC := $(sort $(shell find tests/unit -name '*_test.c' 2>/dev/null))
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)

.PHONY: all deps run test unit integration check clean install bench bench-bins fuzz
all: hookd

deps:
	@scripts/deps.sh build

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libhookd.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

hookd: $(BUILD)/src/main.o $(BUILD)/libhookd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libhookd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libhookd.a $(LDLIBS) $(shell pkg-config --libs cmocka)

# make run: install what is missing, build, serve on 127.0.0.1:8071 with ./hookd.db
run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory hookd
	./hookd serve --listen 127.0.0.1:8071 --db sqlite:./hookd.db

# make test: unit tests (cmocka) then integration tests (node --test), one summary line
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory hookd unit-bins
	@tests/run.sh

unit-bins: $(UNIT_BIN)

unit: unit-bins
	@tests/run.sh unit

integration: hookd
	@tests/run.sh integration

# make bench: the delivery engine's benchmark (bench/run.sh), figures in bench/results.md
BENCH_BIN := $(BUILD)/bench/sink $(BUILD)/bench/blast $(BUILD)/bench/pub

bench:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory hookd bench-bins
	@bench/run.sh

bench-bins: $(BENCH_BIN)

$(BUILD)/bench/sink: bench/sink.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -o $@ $< -lpthread

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(shell pkg-config --cflags libcurl) -o $@ $< \
		$(shell pkg-config --libs libcurl)

clean:
	rm -rf $(BUILD) build-asan hookd

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d $(UNIT_BIN:=.d)
