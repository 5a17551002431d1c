#ifndef CPK_FUZZ_DRIVER_H
#define CPK_FUZZ_DRIVER_H

/// Runs libFuzzer with the command line given, on LLVMFuzzerTestOneInput (defined in Swift,
/// Entry.swift). The fuzz binary's main calls this: SwiftPM gives every executable a main of
/// its own, so libFuzzer's cannot be used.
int cpk_fuzz_run(int argc, char **argv);

#endif
