/* regcheck.h - a probe for callee-saved registers across a call.
 *
 * regcheck_call(fn, arg, seed) fills every callee-saved register of the
 * ABI with values derived from `seed`, calls fn(arg), and returns a bit
 * mask of the registers that did not come back intact (0: all preserved).
 * The compiler cannot be trusted to keep values in those registers across
 * a switch on its own, so the test loads them by hand.
 *
 *   x86-64:  bit 0 rbx, 1 rbp, 2 r12, 3 r13, 4 r14, 5 r15
 *   AArch64: bits 0-10 x19-x29, bits 11-18 d8-d15
 */
#ifndef AXON_REGCHECK_H
#define AXON_REGCHECK_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_REGCHECK 1
uint64_t regcheck_call(void (*fn)(void *), void *arg, uint64_t seed);

/* clang-format off */
#if defined(__x86_64__)
#define REGCHECK_CMP(reg, k, bit)                                                                  \
    "lea " #k "(%rdx), %rcx\n cmp %rcx, " reg "\n je 1f\n or $" #bit ", %eax\n1:\n"
__asm__(".text\n"
        ".p2align 4\n"
        ".type regcheck_call, @function\n"
        "regcheck_call:\n"
        "push %rbp\n push %rbx\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "push %rdx\n" /* the seed; 7 pushes keep the call 16-aligned */
        "lea 0(%rdx), %rbx\n lea 1(%rdx), %rbp\n lea 2(%rdx), %r12\n"
        "lea 3(%rdx), %r13\n lea 4(%rdx), %r14\n lea 5(%rdx), %r15\n"
        "mov %rdi, %rax\n mov %rsi, %rdi\n call *%rax\n"
        "mov (%rsp), %rdx\n xor %eax, %eax\n" REGCHECK_CMP("%rbx", 0, 1)
            REGCHECK_CMP("%rbp", 1, 2) REGCHECK_CMP("%r12", 2, 4) REGCHECK_CMP("%r13", 3, 8)
                REGCHECK_CMP("%r14", 4, 16) REGCHECK_CMP("%r15", 5, 32)
        "pop %rdx\n pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbx\n pop %rbp\n"
        "ret\n"
        ".size regcheck_call, .-regcheck_call\n");
#else
#define REGCHECK_X(reg, k, bit)                                                                    \
    "add x9, x2, #" #k "\n cmp " reg ", x9\n cset x10, ne\n orr x0, x0, x10, lsl #" #bit "\n"
#define REGCHECK_D(reg, k, bit)                                                                    \
    "add x9, x2, #" #k "\n fmov x11, " reg "\n cmp x11, x9\n cset x10, ne\n"                        \
    " orr x0, x0, x10, lsl #" #bit "\n"
#define REGCHECK_SETD(reg, k) "add x9, x2, #" #k "\n fmov " reg ", x9\n"
__asm__(".text\n"
        ".p2align 4\n"
        ".type regcheck_call, %function\n"
        "regcheck_call:\n"
        "sub sp, sp, #176\n"
        "stp x19, x20, [sp, #0]\n stp x21, x22, [sp, #16]\n stp x23, x24, [sp, #32]\n"
        "stp x25, x26, [sp, #48]\n stp x27, x28, [sp, #64]\n stp x29, x30, [sp, #80]\n"
        "stp d8, d9, [sp, #96]\n stp d10, d11, [sp, #112]\n stp d12, d13, [sp, #128]\n"
        "stp d14, d15, [sp, #144]\n str x2, [sp, #160]\n"
        "add x19, x2, #0\n add x20, x2, #1\n add x21, x2, #2\n add x22, x2, #3\n"
        "add x23, x2, #4\n add x24, x2, #5\n add x25, x2, #6\n add x26, x2, #7\n"
        "add x27, x2, #8\n add x28, x2, #9\n add x29, x2, #10\n" REGCHECK_SETD("d8", 11)
            REGCHECK_SETD("d9", 12) REGCHECK_SETD("d10", 13) REGCHECK_SETD("d11", 14)
                REGCHECK_SETD("d12", 15) REGCHECK_SETD("d13", 16) REGCHECK_SETD("d14", 17)
                    REGCHECK_SETD("d15", 18)
        "mov x9, x0\n mov x0, x1\n blr x9\n"
        "ldr x2, [sp, #160]\n mov x0, #0\n" REGCHECK_X("x19", 0, 0) REGCHECK_X("x20", 1, 1)
            REGCHECK_X("x21", 2, 2) REGCHECK_X("x22", 3, 3) REGCHECK_X("x23", 4, 4)
                REGCHECK_X("x24", 5, 5) REGCHECK_X("x25", 6, 6) REGCHECK_X("x26", 7, 7)
                    REGCHECK_X("x27", 8, 8) REGCHECK_X("x28", 9, 9) REGCHECK_X("x29", 10, 10)
                        REGCHECK_D("d8", 11, 11) REGCHECK_D("d9", 12, 12) REGCHECK_D("d10", 13, 13)
                            REGCHECK_D("d11", 14, 14) REGCHECK_D("d12", 15, 15)
                                REGCHECK_D("d13", 16, 16) REGCHECK_D("d14", 17, 17)
                                    REGCHECK_D("d15", 18, 18)
        "ldp x19, x20, [sp, #0]\n ldp x21, x22, [sp, #16]\n ldp x23, x24, [sp, #32]\n"
        "ldp x25, x26, [sp, #48]\n ldp x27, x28, [sp, #64]\n ldp x29, x30, [sp, #80]\n"
        "ldp d8, d9, [sp, #96]\n ldp d10, d11, [sp, #112]\n ldp d12, d13, [sp, #128]\n"
        "ldp d14, d15, [sp, #144]\n"
        "add sp, sp, #176\n ret\n"
        ".size regcheck_call, .-regcheck_call\n");
#endif
/* clang-format on */
#endif

#endif /* AXON_REGCHECK_H */
