/* switch_x86_64.S - context switch for x86-64, System V ABI (Linux, BSD).
 *
 * A switch is an ordinary call as far as the compiler is concerned, so it
 * saves only what a callee must preserve: rbx, rbp, r12-r15, rsp, and the
 * floating-point control state (MXCSR control bits, x87 control word).  The
 * caller-saved registers, the xmm registers and the flags are dead at a
 * call already.  No system call: the signal mask is per thread, not per
 * coroutine (docs/coroutines-internals.md says why).
 *
 * A suspended context is its stack pointer; the stack holds, from low to
 * high addresses:
 *
 *   rsp+0   MXCSR (4 bytes)   rsp+4  x87 control word (2 bytes, 2 pad)
 *   rsp+8   r15   rsp+16 r14   rsp+24 r13   rsp+32 r12   rsp+40 rbx
 *   rsp+48  rbp   rsp+56 return address
 */

#if defined(__CET__) && (__CET__ & 1)
#define ENDBR endbr64
#else
#define ENDBR
#endif

        .text

/* void axi_ctx_switch(axi_ctx *from (rdi), axi_ctx *to (rsi)) */
        .globl  axi_ctx_switch
        .hidden axi_ctx_switch
        .type   axi_ctx_switch, @function
        .p2align 4
axi_ctx_switch:
        .cfi_startproc
        ENDBR
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movl    (%rsp), %ecx            /* current MXCSR, kept for the compare */
        movzwl  4(%rsp), %edx           /* current x87 control word */
        movq    %rsp, (%rdi)

        movq    (%rsi), %rsp            /* now on the other stack, same layout */

        /* Only MXCSR's control bits (6-15) belong to a context; the
         * exception flags (0-5) stay with the thread, as across a call.  The
         * two sides nearly always agree, so load only on a difference: an
         * unconditional ldmxcsr would have to wait for the stmxcsr above,
         * which is slow on AMD Zen (measured: 11 ns per switch instead of
         * 6.6), while the predicted branch lets execution run ahead. */
        movl    (%rsp), %eax
        xorl    %ecx, %eax
        andl    $0xffc0, %eax
        jnz     .Lload_mxcsr
.Lcheck_fpcw:
        cmpw    4(%rsp), %dx
        jne     .Lload_fpcw
.Lrestore:
        .cfi_remember_state
        addq    $8, %rsp
        .cfi_adjust_cfa_offset -8
        popq    %r15
        .cfi_adjust_cfa_offset -8
        .cfi_restore r15
        popq    %r14
        .cfi_adjust_cfa_offset -8
        .cfi_restore r14
        popq    %r13
        .cfi_adjust_cfa_offset -8
        .cfi_restore r13
        popq    %r12
        .cfi_adjust_cfa_offset -8
        .cfi_restore r12
        popq    %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbx
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbp
        /* pop + jmp rather than ret: ret would be predicted from the
         * return stack, which holds the other context's return address, so
         * it would mispredict on every switch; an indirect jump is
         * predicted from its own history (Boost.Context does the same). */
        popq    %r8
        .cfi_adjust_cfa_offset -8
        .cfi_register rip, r8
        jmp     *%r8
        .cfi_restore_state              /* the out-of-line paths run before the pops */
.Lload_mxcsr:
        xorl    %eax, %ecx              /* current flags, the target's control bits */
        movl    %ecx, -8(%rsp)          /* below rsp: the red zone is ours */
        ldmxcsr -8(%rsp)
        jmp     .Lcheck_fpcw
.Lload_fpcw:
        fldcw   4(%rsp)
        jmp     .Lrestore
        .cfi_endproc
        .size   axi_ctx_switch, .-axi_ctx_switch

/* void axi_ctx_make(axi_ctx *ctx (rdi), void *lo (rsi), size_t size (rdx),
 *                   void (*entry)(void *) (rcx), void *arg (r8))
 * Builds the frame above at the top of the stack, so that the first switch
 * "returns" into the trampoline with r12 = entry, r13 = arg. */
        .globl  axi_ctx_make
        .hidden axi_ctx_make
        .type   axi_ctx_make, @function
        .p2align 4
axi_ctx_make:
        .cfi_startproc
        ENDBR
        leaq    (%rsi,%rdx), %rax
        andq    $-16, %rax              /* the trampoline starts 16-aligned */
        leaq    axi_ctx_trampoline(%rip), %r9
        movq    %r9, -8(%rax)           /* return address */
        movq    $0, -16(%rax)           /* rbp: ends frame-pointer walks */
        movq    $0, -24(%rax)           /* rbx */
        movq    %rcx, -32(%rax)         /* r12 */
        movq    %r8, -40(%rax)          /* r13 */
        movq    $0, -48(%rax)           /* r14 */
        movq    $0, -56(%rax)           /* r15 */
        stmxcsr -64(%rax)               /* start with the creator's FP modes */
        movl    $0, -60(%rax)
        fnstcw  -60(%rax)
        subq    $64, %rax
        movq    %rax, (%rdi)
        ret
        .cfi_endproc
        .size   axi_ctx_make, .-axi_ctx_make

/* First code on a new stack: call entry(arg), which never returns.  The
 * undefined return address tells debuggers and unwinders the stack ends. */
        .type   axi_ctx_trampoline, @function
        .p2align 4
axi_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        movq    %r13, %rdi
        call    *%r12
        ud2
        .cfi_endproc
        .size   axi_ctx_trampoline, .-axi_ctx_trampoline

        .section .note.GNU-stack,"",@progbits
