// gomp/detail/switch_x86_64.hpp: context switch for x86-64 System V.
// See switch.hpp for the contract. Frame, from the saved stack pointer up:
//   [0] mxcsr (4 bytes) + x87 control word (2 bytes), [8] r15, [16] r14,
//   [24] r13, [32] r12, [40] rbx, [48] rbp, [56] return address.
#pragma once

asm(R"(
    .pushsection .text.gomp_switch,"axG",@progbits,gomp_switch,comdat
    .weak gomp_switch
    .type gomp_switch,@function
    .p2align 4
gomp_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size gomp_switch,.-gomp_switch
    .popsection

    .pushsection .text.gomp_gstart_trampoline,"axG",@progbits,gomp_gstart_trampoline,comdat
    .weak gomp_gstart_trampoline
    .type gomp_gstart_trampoline,@function
    .p2align 4
gomp_gstart_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    callq *%rbx
    ud2
    .cfi_endproc
    .size gomp_gstart_trampoline,.-gomp_gstart_trampoline
    .popsection
)");

extern "C" void gomp_gstart_trampoline();

namespace gomp::detail {

// Lays out a first switch frame below `top` (16-byte aligned) that enters
// entry(arg) on this stack. Returns the stack pointer to switch to.
inline void* make_context(void* top, void (*entry)(void*), void* arg) {
    auto* sp = reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t(15));
    sp -= 8;  // 64-byte frame; after `ret` rsp = top (16-aligned) as `call` expects.
    std::uint32_t mxcsr = 0x1F80;          // default: all exceptions masked, round to nearest
    std::uint16_t fpucw = 0x037F;          // default x87 control word
    std::memcpy(reinterpret_cast<char*>(sp), &mxcsr, 4);
    std::memcpy(reinterpret_cast<char*>(sp) + 4, &fpucw, 2);
    sp[1] = 0;                                                  // r15
    sp[2] = 0;                                                  // r14
    sp[3] = 0;                                                  // r13
    sp[4] = reinterpret_cast<std::uint64_t>(arg);               // r12
    sp[5] = reinterpret_cast<std::uint64_t>(entry);             // rbx
    sp[6] = 0;                                                  // rbp
    sp[7] = reinterpret_cast<std::uint64_t>(&gomp_gstart_trampoline);  // return address
    return sp;
}

}  // namespace gomp::detail
