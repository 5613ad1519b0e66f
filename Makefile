# MoodSync - one non-recursive Makefile.
#   make [MODE=release|debug|asan|tsan] build build/$(MODE)/moodsync
#                                     (tsan: ThreadSanitizer, for the e2e
#                                     server tests in tests/run.sh)
#   make test                         everything: deps, both builds, all tests
#   make check                        run tests already built (tests/run.sh)
#   make unit                         unit test binaries only
#   make bench | bench-build | fuzz | format | format-check | clean
# Components link one way (docs/architecture.md): cli, server -> pipeline
# -> {vision, nn}; cli, server -> text; server -> music -> {store, audio};
# cli -> audio; everything -> common. Every unit test binary links only its
# component and what it depends on, so a call that runs against the arrows
# fails to link.

MODE ?= release
BUILD := build/$(MODE)
CC ?= cc

PKGS := libjpeg libpng sqlite3 libmicrohttpd libcurl libcjson openblas \
	sndfile libebur128
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS_release := -O2 -march=native -DNDEBUG
CFLAGS_debug := -O0 -g3
CFLAGS_asan := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS_asan := -fsanitize=address,undefined
CFLAGS_tsan := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS_tsan := -fsanitize=thread

CPPFLAGS += -Iinclude -Isrc -include src/common/prelude.h -D_GNU_SOURCE \
	-MMD -MP
CFLAGS += -std=c11 $(WARN) $(CFLAGS_$(MODE)) $(PKG_CFLAGS) -pthread
LDFLAGS += $(LDFLAGS_$(MODE)) -pthread
LDLIBS += $(PKG_LIBS) -lm

COMPONENTS := common vision nn pipeline audio text music store server cli
$(foreach c,$(COMPONENTS),$(eval $(c)_OBJS := \
	$(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/$(c)/*.c))))

# The web page, embedded into the binary (see tools/embed.sh).
WEB_FILES := $(sort $(wildcard web/*))
WEB_OBJ := $(BUILD)/web_assets.o

ALL_OBJS := $(foreach c,$(COMPONENTS),$($(c)_OBJS)) $(WEB_OBJ) $(BUILD)/main.o

# Unit test binary tests/unit/test_<c>.c links these objects.
test_common_DEPS := $(common_OBJS)
test_vision_DEPS := $(vision_OBJS) $(common_OBJS)
test_vision_image_DEPS := $(vision_OBJS) $(common_OBJS)
test_vision_align_DEPS := $(vision_OBJS) $(common_OBJS)
test_pipeline_DEPS := $(pipeline_OBJS) $(vision_OBJS) $(nn_OBJS) \
	$(common_OBJS)
test_nn_DEPS := $(nn_OBJS) $(common_OBJS)
test_nn_train_DEPS := $(nn_OBJS) $(common_OBJS)
test_nn_calib_DEPS := $(nn_OBJS) $(common_OBJS)
test_nn_eval_DEPS := $(nn_OBJS) $(common_OBJS)
test_nn_model_DEPS := $(nn_OBJS) $(common_OBJS)
test_nn_net_DEPS := $(nn_OBJS) $(common_OBJS)
test_server_calib_DEPS := $(BUILD)/server/calib.o $(nn_OBJS) $(common_OBJS)
test_server_acceptor_DEPS := $(BUILD)/server/acceptor.o $(common_OBJS)
test_nn_kernels_DEPS := $(nn_OBJS) $(common_OBJS)
test_nn_amx_DEPS := $(nn_OBJS) $(common_OBJS)
test_nn_amx_train_DEPS := $(nn_OBJS) $(common_OBJS)
test_nn_ensemble_DEPS := $(nn_OBJS) $(common_OBJS)
test_audio_DEPS := $(audio_OBJS) $(common_OBJS)
test_audio_files_DEPS := $(audio_OBJS) $(common_OBJS)
test_audio_wav_DEPS := $(audio_OBJS) $(common_OBJS)
test_text_DEPS := $(text_OBJS) $(common_OBJS)
test_affect_DEPS := $(BUILD)/music/affect.o $(common_OBJS)
test_fusion_DEPS := $(BUILD)/music/fusion.o $(BUILD)/music/affect.o \
	$(common_OBJS)
test_music_DEPS := $(music_OBJS) $(store_OBJS) $(audio_OBJS) \
	$(common_OBJS)
test_store_DEPS := $(store_OBJS) $(common_OBJS)
test_journey_DEPS := $(music_OBJS) $(store_OBJS) $(audio_OBJS) \
	$(common_OBJS)
test_library_DEPS := $(music_OBJS) $(store_OBJS) $(audio_OBJS) \
	$(common_OBJS)
test_range_DEPS := $(BUILD)/server/range.o $(common_OBJS)
test_spotify_json_DEPS := $(music_OBJS) $(store_OBJS) $(audio_OBJS) \
	$(common_OBJS)
test_spotify_DEPS := $(music_OBJS) $(store_OBJS) $(audio_OBJS) \
	$(common_OBJS)
test_server_DEPS := $(filter-out $(BUILD)/main.o $(cli_OBJS),$(ALL_OBJS))
test_cli_DEPS := $(filter-out $(BUILD)/main.o,$(ALL_OBJS))

# Bench program bench/<name>.c links these objects; built with the same
# flags and prelude (banned.h) as the product.
bench_vision_bench_DEPS := $(vision_OBJS) $(common_OBJS)
bench_nn_bench_DEPS := $(nn_OBJS) $(common_OBJS)
bench_crop_margin_DEPS := $(vision_OBJS) $(nn_OBJS) $(common_OBJS)
bench_server_frame_DEPS := $(pipeline_OBJS) $(vision_OBJS) $(nn_OBJS) \
	$(common_OBJS)
bench_align_DEPS := $(pipeline_OBJS) $(vision_OBJS) $(nn_OBJS) \
	$(common_OBJS)
bench_text_bench_DEPS := $(text_OBJS) $(common_OBJS)
bench_calib_sim_DEPS := $(BUILD)/server/calib.o $(pipeline_OBJS) $(vision_OBJS) \
	$(nn_OBJS) $(common_OBJS)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all unit test check bench bench-build fuzz format format-file \
	format-check clean deps
all: $(BUILD)/moodsync

$(BUILD)/moodsync: $(ALL_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The training layers' element-wise loops (BN, ReLU, pooling) are only
# vectorised by GCC's -O2 when the cost model may add a scalar epilogue;
# float reductions stay in order, so results are bit for bit the same.
$(BUILD)/nn/layers.o: CFLAGS += -fvect-cost-model=dynamic

$(BUILD)/web_assets.c: $(WEB_FILES) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh $(WEB_FILES) > $@

$(WEB_OBJ): $(BUILD)/web_assets.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/bench/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $$(test_$$*_DEPS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/bench/%.o $$(bench_$$*_DEPS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BINS)

bench-build: $(BENCH_BINS)

test:
	sh scripts/test.sh

check: all unit
	sh tests/run.sh

bench: all bench-build
	sh bench/run.sh $(BUILD)

# libFuzzer harnesses (clang): build/fuzz/fuzz_<name>, run on their corpus.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
fuzz_cascade_SRCS := $(wildcard src/vision/*.c)
fuzz_image_SRCS := $(wildcard src/vision/*.c)
fuzz_model_SRCS := $(wildcard src/nn/*.c)
fuzz_ferplus_SRCS := $(wildcard src/nn/*.c)
fuzz_ensemble_SRCS := $(wildcard src/nn/*.c)
fuzz_spotify_SRCS := $(addprefix src/music/,spotify_auth.c spotify_http.c \
	spotify_json.c)
fuzz_imghdr_SRCS := src/pipeline/imghdr.c
fuzz_http_SRCS := src/server/http_guard.c src/server/calib.c src/nn/calib.c \
	src/music/mood.c $(fuzz_spotify_SRCS)
fuzz_audio_SRCS := $(wildcard src/audio/*.c)
fuzz_cli_opts_SRCS := src/cli/opt.c
fuzz_range_SRCS := src/server/range.c
fuzz_userdirs_SRCS := src/music/library_dirs.c
fuzz_text_SRCS := $(wildcard src/text/*.c)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_$$*_SRCS) $(wildcard src/common/*.c)
	@mkdir -p $(dir $@)
	clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) \
		$(PKG_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS) -lm -pthread
fuzz: $(FUZZ_BINS)

# clang-format (.clang-format). format-check runs in CI (scripts/test.sh)
# on every C file in the repository.
FORMAT_FILES := $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-file:
	clang-format -i $(F)
format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

deps:
	sh scripts/deps.sh test

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
