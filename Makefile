# superoffice-ffi: the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := all

ROOT      := $(abspath .)
TARGET    := $(ROOT)/target/release
LIB       := $(TARGET)/libsuperoffice.so
STUB      := $(TARGET)/examples/stub_server
CLI       := $(TARGET)/superoffice
BUILD     := $(ROOT)/build
CC        ?= gcc
CFLAGS_C  := -std=c11 -O0 -g -Wall -Wextra -Werror -I$(ROOT)/include
LINK_LIB  := -L$(TARGET) -lsuperoffice -Wl,-rpath,$(TARGET) -lpthread
SANITIZE  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
WITH_STUB := $(ROOT)/tests/with-stub.sh
# Inside `make test` the stub already runs; a target run alone starts its own.
STUB_IF_NEEDED = $(if $(SO_STUB_URL),,$(WITH_STUB))

.PHONY: all build header check-header demo demo-c demo-cpp demo-python demo-csharp test test-rust test-c test-c-valgrind \
        test-python test-csharp test-install test-cli install wheel clean bench \
        test-c-faults test-c-person test-c-credentials test-c-posix test-keepalive test-soak test-fuzz-smoke fuzz test-ts bench-latency \
        test-c-async test-c-async-tsan test-c-threads bench-async cross cross-build wheels nuget test-cross test-cpp demo-system-user \
        notices dist test-dist

all: build

## Build the library (shared and static), the `superoffice` command line, the stub server
## and the C programs.
build: $(TARGET)/libsuperoffice.so.0 $(CLI) $(BUILD)/c/send_password_email $(BUILD)/c/test_superoffice

$(LIB) $(STUB) $(CLI): $(shell find src examples tests/stub -name '*.rs') Cargo.toml build.rs
	cargo build --release --lib --bins --example stub_server
	@touch $(LIB) $(STUB) $(CLI)

# Programs linked against target/release look for the soname.
$(TARGET)/libsuperoffice.so.0: $(LIB)
	ln -sf libsuperoffice.so $@

$(BUILD)/c/send_password_email: bindings/c/send_password_email.c include/superoffice.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_C) $< -o $@ $(LINK_LIB)

$(BUILD)/c/test_superoffice: tests/c/test_superoffice.c tests/c/harness.h include/superoffice.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_C) $(SANITIZE) $< -o $@ $(LINK_LIB)

$(BUILD)/c/test_superoffice_plain: tests/c/test_superoffice.c tests/c/harness.h include/superoffice.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_C) $< -o $@ $(LINK_LIB)

## Regenerate include/superoffice.h from the code (commit the result).
header:
	SO_UPDATE_HEADER=1 cargo test --release --test header

## Fails when the committed header differs from what the code generates.
check-header:
	cargo test --release --test header

## Send a password e-mail from C, C++, Python and C# (to the stub unless SO_BASE_URL is set).
demo: build
	@if [ -n "$$SO_BASE_URL" ]; then \
		$(MAKE) --no-print-directory demo-c demo-cpp demo-python demo-csharp; \
	else \
		echo "SO_BASE_URL is not set: using the bundled SuperOffice stub server on 127.0.0.1"; \
		$(WITH_STUB) $(MAKE) --no-print-directory demo-c demo-cpp demo-python demo-csharp demo-system-user; \
	fi

demo-c: $(BUILD)/c/send_password_email
	@base="$${SO_BASE_URL:-$$SO_STUB_URL/Cust12345}"; \
	if [ -z "$$SO_BASE_URL" ] && [ -z "$$SO_TICKET$$SO_BEARER_TOKEN$$SO_USERNAME" ]; then export SO_TICKET='7T:dGVzdA=='; fi; \
	SO_BASE_URL="$$base" $(BUILD)/c/send_password_email

$(BUILD)/cpp/send_password_email: bindings/cpp/send_password_email.cpp include/superoffice.hpp include/superoffice.h $(LIB)
	@mkdir -p $(dir $@)
	@tests/ensure-cxx.sh $(CXX)
	$(CXX) -std=c++17 -O0 -g -Wall -Wextra -Werror -pedantic -I$(ROOT)/include $< -o $@ $(LINK_LIB)

## The same e-mail from C++ (bindings/cpp, over include/superoffice.hpp).
demo-cpp: $(BUILD)/cpp/send_password_email
	@base="$${SO_BASE_URL:-$$SO_STUB_URL/Cust12345}"; \
	if [ -z "$$SO_BASE_URL" ] && [ -z "$$SO_TICKET$$SO_BEARER_TOKEN$$SO_USERNAME" ]; then export SO_TICKET='7T:dGVzdA=='; fi; \
	SO_BASE_URL="$$base" $(BUILD)/cpp/send_password_email

## The SuperOffice Online system user against the stub's login service: the library
## signs with the test-only partner key, exchanges, checks the JWT and sends with the ticket.
demo-system-user: $(CLI)
	SO_BASE_URL="$$SO_STUB_URL/Cust12345" SO_LOGIN_URL="$$SO_STUB_URL/login" SO_SYSTEM_USER_TOKEN='Partner App-8k8Q7DmBgo' \
		SO_PRIVATE_KEY_FILE=tests/keys/partner.xml SO_CLIENT_SECRET=demo-client-secret \
		$(CLI) send-password-email --person-id 670 --from support@example.com --to kari@example.com --subject 'Your password'

demo-python:
	SUPEROFFICE_LIB=$(LIB) bindings/python/run-demo.sh

demo-csharp:
	bindings/csharp/run-demo.sh

## Every test of every language.
test: build
	$(MAKE) --no-print-directory test-rust test-fuzz-smoke
	$(WITH_STUB) $(MAKE) --no-print-directory test-c test-c-faults test-c-person test-c-credentials test-c-posix test-keepalive test-c-async test-c-async-tsan test-c-threads test-soak test-c-valgrind test-cpp test-install test-cli test-python test-csharp test-ts \
		test-cross test-dist

test-rust:
	cargo test --release --all-targets

test-c: $(BUILD)/c/test_superoffice
	-tests/ensure-idna-host.sh
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(BUILD)/c/test_superoffice

test-c-valgrind: $(BUILD)/c/test_superoffice_plain
	valgrind --quiet --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --suppressions=tests/c/valgrind.supp $(BUILD)/c/test_superoffice_plain

## The fault matrix through the C ABI (what test-c does not cover), under ASan and UBSan.
test-c-faults: $(BUILD)/c/test_faults
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(BUILD)/c/test_faults

## Finding a person by e-mail address and sending to an address, under ASan and UBSan.
test-c-person: $(BUILD)/c/test_person
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(BUILD)/c/test_person

## Credentials the library gets itself (system user, OAuth refresh) against the stub's
## login service, under ASan and UBSan.
test-c-credentials: $(BUILD)/c/test_credentials
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(BUILD)/c/test_credentials

## 8 threads x 10,000 sends through one client, every send accounted for; then 100,000
## options and clients made and freed with a flat RSS (ASan's quarantine off for that one).
test-soak: $(BUILD)/c/soak
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(BUILD)/c/soak send 8 10000
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=0 UBSAN_OPTIONS=halt_on_error=1 \
		$(BUILD)/c/soak churn 100000

## Signals that interrupt a send (with and without a timeout) and fork() of a process
## holding a client; POSIX only, under ASan and UBSan.
test-c-posix: $(BUILD)/c/test_posix
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(BUILD)/c/test_posix

## Keep-alive against a real nginx started on a free loopback port (installed when
## missing): every third connection closed, and the idle-timeout race.
test-keepalive: $(BUILD)/c/test_keepalive
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/nginx/keepalive.sh $(BUILD)/c/test_keepalive

$(BUILD)/c/test_faults $(BUILD)/c/test_person $(BUILD)/c/test_credentials $(BUILD)/c/soak $(BUILD)/c/test_posix $(BUILD)/c/test_keepalive: $(BUILD)/c/%: tests/c/%.c tests/c/harness.h include/superoffice.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_C) $(SANITIZE) $< -o $@ $(LINK_LIB)

## The asynchronous send: exactly-once callbacks, cancellation, so_client_free with sends
## outstanding, 10,000 sends with random cancels; under ASan and UBSan.
test-c-async: $(BUILD)/c/test_async
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(BUILD)/c/test_async

## The same tests under ThreadSanitizer, 1,000 sends: the library and std built with
## -Zsanitizer=thread (stable toolchain, RUSTC_BOOTSTRAP=1, -Zbuild-std; target/tsan, about
## 4 minutes cold). Helgrind was tried first: it does not see Rust's futex-based locks and
## reports every access they guard.
test-c-async-tsan:
	tests/c/tsan.sh 1000

## Threads a send starts (counted where they are made, pthread_create): none for sequential
## sends by IP literal, synchronous or asynchronous, nor by a host name whose answer is
## kept; Linux only, under ASan and UBSan.
test-c-threads: $(BUILD)/c/test_threads
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(STUB_IF_NEEDED) $(BUILD)/c/test_threads

$(BUILD)/c/test_threads: tests/c/test_threads.c tests/c/harness.h include/superoffice.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_C) $(SANITIZE) $< -o $@ $(LINK_LIB) -ldl

$(BUILD)/c/test_async: tests/c/test_async.c tests/c/harness.h include/superoffice.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_C) $(SANITIZE) $< -o $@ $(LINK_LIB)

## 10 s of each fuzz target (fuzz/run.sh installs cargo-fuzz when missing; it runs on
## the stable toolchain with RUSTC_BOOTSTRAP=1).
test-fuzz-smoke:
	fuzz/run.sh 10

## Each fuzz target for FUZZ_SECONDS (default 180); see fuzz/run.sh.
fuzz:
	fuzz/run.sh $(or $(FUZZ_SECONDS),180)

## The C++ wrapper (include/superoffice.hpp): tests/cpp built with g++ and clang++ (installed
## when missing), -std=c++17 -Wall -Wextra -Werror -pedantic, under ASan and UBSan.
test-cpp: $(LIB) $(STUB)
	$(STUB_IF_NEEDED) tests/cpp/run.sh

test-python:
	SUPEROFFICE_LIB=$(LIB) bindings/python/run-tests.sh

test-csharp:
	bindings/csharp/run-tests.sh

## The official TypeScript client (@superoffice/webapi from npm, installed quietly when
## missing) against the stub, once per authentication scheme; skipped when npm is unreachable.
test-ts:
	tests/ts/run.sh

## Install the shared and static libraries, the headers, superoffice.pc, the CMake package,
## the `superoffice` program and the docs (licences, third-party notices) under PREFIX,
## laid out as each release archive is (packaging/layout.sh); DESTDIR is put before PREFIX.
PREFIX ?= /usr/local
install: $(LIB) $(CLI)
	packaging/install.sh "$(PREFIX)"

## The third-party notices (build/THIRD-PARTY-NOTICES.txt) from Cargo.lock by cargo-about,
## installed quietly when missing (packaging/notices.sh, packaging/about.toml and about.hbs).
notices:
	packaging/notices.sh

test-install: $(LIB) $(CLI)
	tests/install_test.sh

## The `superoffice` program as an operator runs it (tests/cli.rs, in test-rust, covers more).
test-cli: $(CLI)
	tests/cli_test.sh

## A Python wheel that carries the library, for this machine only (linux_x86_64, which
## PyPI refuses); `make wheels` makes the ones to publish.
wheel: $(LIB)
	bindings/python/build-wheel.sh $(BUILD)/wheel

## Every platform (see README.md, "Platforms"): installs the Rust targets, mingw-w64,
## wine, nuget, qemu-user, cargo-zigbuild, zig and auditwheel when missing, builds the
## Windows DLL, the glibc 2.17 libraries for x86_64 and aarch64 (each with the command
## line beside it) and the macOS compile,
## checks them, and runs the C tests against the stub: on Windows under wine, on aarch64
## under qemu-user.
cross: $(STUB)
	packaging/cross/toolchains.sh
	packaging/cross/build.sh
	$(WITH_STUB) tests/cross/test.sh

cross-build:
	packaging/cross/toolchains.sh
	packaging/cross/build.sh

## Python wheels per platform in build/wheels (manylinux_2_17 x86_64 and aarch64, win_amd64).
wheels: cross-build
	packaging/wheels.sh

## The NuGet package with every runtime's library in build/nuget.
nuget: cross-build
	packaging/nuget.sh

## What make test runs of the above, each target built once: the cross builds and their
## tests (macOS: check and clippy only; make cross also compiles it), the wheels (the
## manylinux one installed and sending to the stub) and the NuGet package. When the
## toolchains cannot be installed it prints one line and passes.
test-cross: $(STUB)
	@rc=0; packaging/cross/toolchains.sh --or-skip test-cross || rc=$$?; \
	if [ $$rc -eq 3 ]; then exit 0; elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	set -e; start=$$SECONDS; \
	packaging/cross/build.sh --macos-check-only; \
	$(STUB_IF_NEEDED) tests/cross/test.sh linux windows; \
	packaging/wheels.sh >/dev/null; \
	packaging/nuget.sh >/dev/null; \
	$(STUB_IF_NEEDED) tests/cross/test.sh wheels nuget; \
	echo "test-cross: $$((SECONDS - start)) s"

## The release archives and Debian packages in build/dist (packaging/dist.sh): Linux x86_64
## and aarch64 (glibc 2.17) .tar.gz, Windows x86_64 .zip (with MSVC's superoffice.lib),
## libsuperoffice0, libsuperoffice-dev and superoffice .debs (amd64), and SHA256SUMS; the
## library and the command line built once per target with make cross's toolchains.
dist:
	packaging/cross/toolchains.sh
	packaging/cross/build.sh --ship-only
	packaging/dist.sh

## make dist, then its output used from outside as a user would (tests/dist_test.sh, with
## tests/consumer): make install, each archive moved to a path with a space (aarch64 under
## qemu-user, Windows under wine), pkg-config, superoffice.lib's symbols, the manifests,
## lintian and, as root, the .debs installed and removed. In make test after test-cross,
## whose builds it reuses (build.sh then has nothing to build). When a toolchain or
## cargo-about cannot be installed it prints one line and passes.
test-dist: $(STUB)
	@rc=0; packaging/cross/toolchains.sh --or-skip test-dist || rc=$$?; \
	if [ $$rc -eq 3 ]; then exit 0; elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	mkdir -p $(BUILD); start=$$SECONDS; \
	packaging/cross/build.sh --ship-only 2>$(BUILD)/dist-build.log || { cat $(BUILD)/dist-build.log >&2; exit 1; }; \
	rc=0; packaging/dist.sh >$(BUILD)/dist.log 2>&1 || rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "test-dist: skipped: $$(tail -n 1 $(BUILD)/dist.log)"; exit 0; \
	elif [ $$rc -ne 0 ]; then cat $(BUILD)/dist.log >&2; exit $$rc; fi; \
	echo "make dist: $$((SECONDS - start)) s"; dist_start=$$SECONDS; \
	$(STUB_IF_NEEDED) tests/dist_test.sh; \
	echo "test-dist: $$((SECONDS - dist_start)) s after make dist"

## Side by side with libcurl, a raw socket and Python requests against a local nginx:
## requests per second, CPU, system calls by name and threads started per send, the load
## average beside each row; writes BENCHMARKS.md (installs nginx, libcurl's headers and
## strace when missing; the set-up is bench/common.sh, shared by every benchmark).
bench: $(LIB)
	bench/run.sh

## The latency-bound batch: N sends to the stub answering after 20 ms, at concurrency 1, 8
## and 64, this library beside libcurl multi, httpx, requests and the official TypeScript
## client; writes its section of BENCHMARKS.md. Not part of make test.
bench-latency: $(LIB)
	bench/latency.sh

## 10,000 asynchronous sends to the stub (delay_ms=20) from C callbacks, Python asyncio and
## C# Tasks at 64 and 256 in flight, beside libcurl multi, aiohttp and httpx.AsyncClient:
## ratio to the ideal and CPU per send, the load average beside each row; see BENCHMARKS.md.
bench-async: $(LIB) $(STUB)
	$(WITH_STUB) bench/async/run.sh

clean:
	rm -rf $(BUILD)
	cargo clean
