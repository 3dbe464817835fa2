// gomp/detail/switch.hpp: the context switch (Go's gogo/mcall, runtime/asm_*.s).
//
// gomp_switch(void** save_sp, void* new_sp) pushes the callee-saved state of
// the running context onto its own stack, stores the stack pointer in
// *save_sp, loads new_sp and pops the state saved there, then returns into
// the other context. Everything the ABI says a call may clobber is clobbered
// anyway, so only callee-saved registers and the floating-point control
// state travel:
//
//   x86-64 System V: rbx rbp r12-r15, mxcsr, x87 control word   (64-byte frame)
//   aarch64 AAPCS64: x19-x28 fp lr, d8-d15, fpcr                (176-byte frame)
//
// A fresh goroutine stack is laid out as if it had been switched out at the
// first instruction of gomp_gstart_trampoline, which calls entry(arg) with
// arg and entry taken from two callee-saved slots and never returns.
//
// The routine lives in a top-level asm block in a COMDAT section, so every
// translation unit that includes gomp emits it and the linker keeps one copy.
#pragma once

#include <cstdint>
#include <cstring>

extern "C" void gomp_switch(void** save_sp, void* new_sp);

#if defined(__x86_64__)
#include <gomp/detail/switch_x86_64.hpp>
#elif defined(__aarch64__)
#include <gomp/detail/switch_aarch64.hpp>
#else
#error "gomp: no context switch for this architecture (x86-64 and aarch64 are supported)"
#endif
