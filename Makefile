# Confidential Package Tools — build, test, demo, install, benchmark.
#
#   make demo      install what is needed, build, run the whole mission (scripts/demo.sh: release with an HSM,
#                  device install, registry, container key provider, fleet)
#   make test      install what is needed, run every test (unit, end-to-end, docs checks)
#   make install PREFIX=/usr/local   binaries, man pages, completions
#   make dist      .build/dist/cpk-tools-VERSION-linux-ARCH.tar.gz: the tools (no Swift toolchain
#                  needed to run them), man pages, completions, docs, SHA256SUMS
#   make deb       .build/dist/cpk-tools_VERSION-REVISION_ARCH.deb, checked by lintian
#   make bench     throughput and peak memory figures (SIZE=4G for a bigger payload; FLEET=N reports for distribute)
#   make fuzz      every parser under libFuzzer + AddressSanitizer, FUZZ_SECONDS each (fuzz-smoke: CI's short run)

TOOLS = cpk-pack cpk-seal cpk-sign cpk-verify cpk-unpack cpk-keyfetch cpk-wrap cpk-install
APT_PACKAGES = libssl-dev libcbor-dev openssl mandoc time age libp11-dev libengine-pkcs11-openssl softhsm2 opensc strace zsh fish swtpm swtpm-tools tpm2-tools libtpm2-pkcs11-1 libtpm2-pkcs11-tools libtss2-dev debootstrap dpkg-dev lintian
PIP_PACKAGES = pytest cbor2 cryptography PyKCS11 grpcio grpcio-tools
PREFIX ?= /usr/local
DEBUG_BIN = .build/debug
RELEASE_BIN = .build/release
SHELL = /bin/bash

.PHONY: all deps build release release-dynamic dist deb test unit e2e check-docs demo install completions bench fuzz fuzz-smoke proto clean

all: build

# Installs the Debian and PyPI packages the build and the tests need, only when missing, and
# fetches Debian 13's skopeo into .build/skopeo-root and Debian's docker-registry into
# .build/registry-root for the container and registry tests (nothing installed).
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  sudo=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  echo "installing $$missing"; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c "import pytest, cbor2, cryptography, PyKCS11, grpc, grpc_tools" 2>/dev/null || python3 -m pip install -q $(PIP_PACKAGES)
	@scripts/fetch-skopeo.sh >/dev/null
	@scripts/fetch-registry.sh >/dev/null

build: deps
	swift build --build-tests

# The tools link the Swift runtime statically: each process starts about 3 ms sooner (no loading
# and relocation of a dozen Swift shared libraries), which a small package's pipeline of three
# processes feels. Product by product: the test-support target (XCTest) cannot link so.
release: deps
	for tool in $(TOOLS); do swift build -c release --static-swift-stdlib --product $$tool || exit 1; done

# Release artifacts of the release build, in DIST_DIR (scripts/package.sh): the binaries
# stripped and checked (ldd: nothing of the Swift toolchain; --version: the VERSION file).
# Reproducible: SOURCE_DATE_EPOCH, default the last commit's time.
DIST_DIR = .build/dist
dist: release
	CPK_TOOLS="$(TOOLS)" scripts/package.sh tarball $(RELEASE_BIN) $(DIST_DIR)

deb: release
	CPK_TOOLS="$(TOOLS)" scripts/package.sh deb $(RELEASE_BIN) $(DIST_DIR)

# The same tools linked with the toolchain's shared Swift libraries, beside the static ones in
# make bench (bench/static.sh).
release-dynamic: deps
	for tool in $(TOOLS); do swift build -c release --scratch-path .build-dynamic --product $$tool || exit 1; done

test: build
	set -o pipefail; swift test --skip-build 2>&1 | tee .build/unit-tests.log
	@python3 scripts/unit-counts.py < .build/unit-tests.log
	$(MAKE) --no-print-directory check-docs
	CPK_BIN=$(DEBUG_BIN) python3 -m pytest -q Tests/e2e

unit: build
	swift test --skip-build

e2e: build
	CPK_BIN=$(DEBUG_BIN) python3 -m pytest -q Tests/e2e

# Man pages lint clean, the checked-in completions match what the tools generate, and every
# target declares exactly the modules it imports, no library message names a flag, and the
# README's Layout section is the package graph; the version is the VERSION file's everywhere.
check-docs:
	mandoc -Tlint -W warning man/*.1
	python3 scripts/check-version.py
	python3 scripts/check-imports.py
	python3 scripts/check-flag-names.py
	python3 scripts/readme-layout.py --check
	@tmp=$$(mktemp -d) && $(MAKE) --no-print-directory completions COMPLETIONS_DIR=$$tmp BIN=$(DEBUG_BIN) >/dev/null && \
	  diff -r completions $$tmp && rm -rf $$tmp && echo "completions are up to date"

COMPLETIONS_DIR ?= completions
BIN ?= $(DEBUG_BIN)
completions:
	@mkdir -p $(COMPLETIONS_DIR)
	@for t in $(TOOLS); do \
	  $(BIN)/$$t --generate-completion-script bash > $(COMPLETIONS_DIR)/$$t.bash && \
	  $(BIN)/$$t --generate-completion-script zsh > $(COMPLETIONS_DIR)/_$$t && \
	  $(BIN)/$$t --generate-completion-script fish > $(COMPLETIONS_DIR)/$$t.fish || exit 1; \
	done

demo: deps
	swift build
	scripts/demo.sh $(DEBUG_BIN)

install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	for t in $(TOOLS); do \
	  install -m 0755 $(RELEASE_BIN)/$$t $(DESTDIR)$(PREFIX)/bin/$$t; \
	  install -m 0644 completions/$$t.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t; \
	  install -m 0644 completions/_$$t $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t; \
	  install -m 0644 completions/$$t.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish; \
	done
	# The man pages cite docs/*.md of the source tree; installed, they cite the installed copies.
	install -d $(DESTDIR)$(PREFIX)/share/doc/cpk-tools
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/cpk-tools/
	install -d $(DESTDIR)$(PREFIX)/share/doc/cpk-tools/guide
	install -m 0644 docs/guide/*.md $(DESTDIR)$(PREFIX)/share/doc/cpk-tools/guide/
	for page in man/*.1; do \
	  sed 's|^\.Pa docs/|.Pa $(PREFIX)/share/doc/cpk-tools/|' $$page > $(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$page) && \
	  chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$page) || exit 1; \
	done

SIZE ?= 1G
FLEET ?= 1000
bench: release release-dynamic
	bench/run.sh $(RELEASE_BIN) $(SIZE)
	bench/fleet.sh $(RELEASE_BIN) $(FLEET)
	bench/static.sh $(RELEASE_BIN) .build-dynamic/release $(SIZE)

# libFuzzer targets for every parser (Tests/Fuzz/fuzz.sh), in their own build (.build-fuzz).
FUZZ_SECONDS ?= 300
fuzz:
	Tests/Fuzz/fuzz.sh all $(FUZZ_SECONDS)

# About 90 seconds of fuzzing (plus the build), run by .ci/run after make test.
fuzz-smoke:
	Tests/Fuzz/fuzz.sh smoke

# The key provider's gRPC code, from proto/keyprovider.proto (scripts/generate-proto.sh): run by
# hand when the .proto or the protobuf/gRPC versions change, and commit the output. Needs
# Debian's protobuf-compiler; the build never runs protoc.
proto:
	scripts/generate-proto.sh

clean:
	rm -rf .build .build-dynamic
