#include <stddef.h>
#include <stdint.h>

#include "cpk_fuzz_driver.h"

// libFuzzer's entry point for programs that have their own main (LLVM 11 and later).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

// The fuzz target, in Swift (@_cdecl in Entry.swift).
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int cpk_fuzz_run(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
