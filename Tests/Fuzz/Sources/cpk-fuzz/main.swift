import CPKFuzzDriver

#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's driver, with the command line: e.g. `cpk-fuzz -max_total_time=60 corpus/cpk`
// with CPK_FUZZ_TARGET=cpk. Tests/Fuzz/fuzz.sh runs it.
_ = selectedTarget.name  // choose (or refuse) the target before fuzzing starts
exit(cpk_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv))
