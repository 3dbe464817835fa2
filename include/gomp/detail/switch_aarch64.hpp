// gomp/detail/switch_aarch64.hpp: context switch for aarch64 (AAPCS64).
// See switch.hpp for the contract. Frame, from the saved stack pointer up:
//   [0] x19 x20, [16] x21 x22, [32] x23 x24, [48] x25 x26, [64] x27 x28,
//   [80] x29 (fp) x30 (lr), [96] d8-d15, [160] fpcr, 176 bytes in all.
#pragma once

asm(R"(
    .pushsection .text.gomp_switch,"axG",@progbits,gomp_switch,comdat
    .weak gomp_switch
    .type gomp_switch,%function
    .p2align 4
gomp_switch:
    .cfi_startproc
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldr x9, [sp, #160]
    msr fpcr, x9
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #176
    ret
    .cfi_endproc
    .size gomp_switch,.-gomp_switch
    .popsection

    .pushsection .text.gomp_gstart_trampoline,"axG",@progbits,gomp_gstart_trampoline,comdat
    .weak gomp_gstart_trampoline
    .type gomp_gstart_trampoline,%function
    .p2align 4
gomp_gstart_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov x0, x19
    blr x20
    brk #0
    .cfi_endproc
    .size gomp_gstart_trampoline,.-gomp_gstart_trampoline
    .popsection
)");

extern "C" void gomp_gstart_trampoline();

namespace gomp::detail {

inline void* make_context(void* top, void (*entry)(void*), void* arg) {
    auto* sp = reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t(15));
    sp -= 22;  // 176-byte frame
    std::memset(sp, 0, 176);
    sp[0] = reinterpret_cast<std::uint64_t>(arg);                       // x19
    sp[1] = reinterpret_cast<std::uint64_t>(entry);                     // x20
    sp[11] = reinterpret_cast<std::uint64_t>(&gomp_gstart_trampoline);  // x30 (lr)
    std::uint64_t fpcr;
    asm volatile("mrs %0, fpcr" : "=r"(fpcr));
    sp[20] = fpcr;
    return sp;
}

}  // namespace gomp::detail
