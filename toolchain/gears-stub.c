/* Stub "gears" import module for wizer (toolchain/snapshot.sh): wizer must
 * instantiate python.wasm to pre-initialise it. The eval loop polls yield
 * during init and must hear "keep going"; nothing else may be called. */
__attribute__((export_name("yield"))) int yield(void) { return 0; }
__attribute__((export_name("call"))) int call(int p, int n) { __builtin_trap(); }
__attribute__((export_name("result"))) void result(int p) { __builtin_trap(); }
__attribute__((export_name("take"))) void take(int p) { __builtin_trap(); }
__attribute__((export_name("reply"))) void reply(int p, int n) { __builtin_trap(); }
