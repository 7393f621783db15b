# ustack: the two commands a new user runs are `make demo` and `make test`.
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
TSAN_BUILD  ?= build-tsan
JOBS        ?= $(shell nproc)
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
PREFIX      ?= /usr/local

.PHONY: all deps deps-build build test test-fast test-asan test-tsan test-fuzz demo fuzz install clean soak valgrind

all: build

# Packages: deps-build for building and the demo, deps for the tests too.
deps-build:
	@scripts/install-deps.sh build

deps:
	@scripts/install-deps.sh all

build: deps-build
	cmake -S . -B $(BUILD) -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# Everything CI runs: gcc build + tests, clang ASan+UBSan build + tests,
# then a short run of every fuzzer.
test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)
	$(MAKE) --no-print-directory test-asan test-tsan test-fuzz

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	      -DUSTACK_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

# The IPC suite (label ipc: pipes, FIFOs, epoll, message queues) under
# ThreadSanitizer, built with clang.
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DUSTACK_TSAN=ON -DUSTACK_TOOLS=OFF >/dev/null
	cmake --build $(TSAN_BUILD) -j$(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j$(JOBS) -L ipc

test-fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DUSTACK_FUZZ=ON -DUSTACK_TESTS=OFF -DUSTACK_TOOLS=OFF \
	      -DFUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -L fuzz

# The demo: two simulated hosts; ARP, ping and UDP, then a TCP connection
# told from the event trace, then pipes and message queues. No root needed.
# DEMO_ARGS passes options (make demo DEMO_ARGS="--loss 5 --html demo.html").
demo: build
	./$(BUILD)/tools/ustack demo $(DEMO_ARGS)

# Every fuzzer for FUZZ_SECONDS each (make fuzz FUZZ_SECONDS=600).
fuzz:
	$(MAKE) --no-print-directory test-fuzz FUZZ_SMOKE_SECONDS=$(FUZZ_SECONDS)

# Long runs: the simulated TCP transfer matrix (one-way and full duplex)
# with many seeds per scenario, the shared-queue SIGKILL trials, and the
# 100 MiB transfers both ways over an impaired TAP device (root; skipped
# without it). make soak TCPSIM_SEEDS=1000 SHMQ_KILL_TRIALS=20000.
TCPSIM_SEEDS ?= 500
SHMQ_KILL_TRIALS ?= 5000
IMPAIR_MIB ?= 100
# The fault matrix (loss, reordering, duplication, corruption, link flaps,
# rate changes): SOAK_SEEDS seeded transfers (make soak SOAK_SEEDS=100000).
SOAK_SEEDS ?= 10000
soak: build
	USTACK_SOAK_SEEDS=$(SOAK_SEEDS) ./$(BUILD)/tests/test_tcpsim_faults
	USTACK_TCPSIM_SEEDS=$(TCPSIM_SEEDS) ./$(BUILD)/tests/test_tcpsim_transfer
	USTACK_TCPSIM_SEEDS=$(TCPSIM_SEEDS) ./$(BUILD)/tests/test_tcpsim_duplex
	USTACK_SHMQ_KILL_TRIALS=$(SHMQ_KILL_TRIALS) ./$(BUILD)/tests/test_shmq_kill
	UST_IMPAIR_MIB=$(IMPAIR_MIB) bash tests/integration/test_tcp_tap_impaired.sh \
	  ./$(BUILD)/tools/ustack || [ $$? -eq 77 ]

# Every unit test under Valgrind memcheck, in a gcc -O1 -g build: a test
# fails if it fails on its own or if memcheck reports any error or a
# definitely-lost block in the test's process. Valgrind's report goes to
# <test>.vg.log; fork()ed children stay silent (--child-silent-after-fork)
# and keep their exit status (no --error-exitcode: a child that _exit()s
# mid-test "loses" the parent's blocks, which is not a leak). The long
# seeded tests are shrunk by their env knobs (the full runs are ASan's and
# make soak's job); each test gets VALGRIND_TIMEOUT seconds.
# VALGRIND_EXCLUDE lists the tests left out, with why:
#  test_mq_eintr: the SA_RESTART cases of the timed calls need futex_waitv
#    (Linux 5.16), which valgrind 3.19 does not know (ENOSYS): the stack
#    then falls back, as on an older kernel, to EINTR, and the test (which
#    checks the 5.16 behaviour) fails. Not a memory error.
VALGRIND_BUILD   ?= build-valgrind
VALGRIND_TIMEOUT ?= 900
VALGRIND_EXCLUDE ?= test_mq_eintr
VALGRIND_ENV     ?= USTACK_TCPSIM_SEEDS=1 USTACK_SOAK_SEEDS=20 \
                    USTACK_PIPE_STRESS_MSGS=2000 UST_MQ_STRESS_MSGS=2000 USTACK_CHURN=200
VALGRIND_FLAGS   ?= -q --leak-check=full --show-leak-kinds=definite \
                    --errors-for-leak-kinds=definite --child-silent-after-fork=yes
valgrind: deps
	cmake -S . -B $(VALGRIND_BUILD) -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=None \
	      -DCMAKE_C_FLAGS="-O1 -g" -DUSTACK_TOOLS=OFF >/dev/null
	cmake --build $(VALGRIND_BUILD) -j$(JOBS)
	@fail=; for t in $(VALGRIND_BUILD)/tests/test_*; do n=$$(basename $$t); \
	  case " $(VALGRIND_EXCLUDE) " in *" $$n "*) echo "SKIP $$n (VALGRIND_EXCLUDE)"; continue;; esac; \
	  s=$$(date +%s); log=$(VALGRIND_BUILD)/$$n.vg.log; \
	  env $(VALGRIND_ENV) timeout $(VALGRIND_TIMEOUT) valgrind $(VALGRIND_FLAGS) \
	      --log-file=$$log $$t >$(VALGRIND_BUILD)/$$n.out 2>&1; rc=$$?; \
	  if [ $$rc -eq 0 ] && ! grep -q '^==' $$log; then echo "ok   $$n $$(( $$(date +%s) - s ))s"; \
	  else echo "FAIL $$n (exit $$rc) $$(( $$(date +%s) - s ))s: see $$log, $(VALGRIND_BUILD)/$$n.out"; \
	       fail="$$fail $$n"; fi; \
	done; if [ -n "$$fail" ]; then echo "valgrind failures:$$fail"; exit 1; fi

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
