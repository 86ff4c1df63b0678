/* switch_aarch64.S - context switch for AArch64, AAPCS64 (Linux, BSD).
 *
 * Saves what a callee must preserve: x19-x28, the frame pointer x29, the
 * link register x30, sp, the low halves d8-d15 of v8-v15, and FPCR (the
 * floating-point control modes).  FPSR holds the cumulative exception
 * flags, which the ABI leaves to the caller, so it stays with the thread.
 * No system call: the signal mask is per thread, not per coroutine.
 *
 * A suspended context is its stack pointer; the 176-byte frame holds:
 *
 *   sp+0   x19 x20   sp+16 x21 x22   sp+32 x23 x24   sp+48 x25 x26
 *   sp+64  x27 x28   sp+80 x29 x30   sp+96 d8 d9     sp+112 d10 d11
 *   sp+128 d12 d13   sp+144 d14 d15  sp+160 FPCR, pad
 */

        .text

/* void axi_ctx_switch(axi_ctx *from (x0), axi_ctx *to (x1)) */
        .globl  axi_ctx_switch
        .hidden axi_ctx_switch
        .type   axi_ctx_switch, %function
        .p2align 4
axi_ctx_switch:
        .cfi_startproc
        sub     sp, sp, #176
        .cfi_def_cfa_offset 176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        .cfi_offset x29, -96
        .cfi_offset x30, -88
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x10, fpcr
        str     x10, [sp, #160]
        mov     x9, sp
        str     x9, [x0]

        ldr     x9, [x1]                /* now on the other stack, same layout */
        mov     sp, x9

        /* Writing FPCR can serialise the core; the two sides nearly always
         * agree, so write it only on a difference. */
        ldr     x11, [sp, #160]
        cmp     x11, x10
        b.ne    .Lload_fpcr
.Lrestore:
        .cfi_remember_state
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        .cfi_def_cfa_offset 0
        .cfi_restore x29
        .cfi_restore x30
        ret
        .cfi_restore_state
.Lload_fpcr:
        msr     fpcr, x11
        b       .Lrestore
        .cfi_endproc
        .size   axi_ctx_switch, .-axi_ctx_switch

/* void axi_ctx_make(axi_ctx *ctx (x0), void *lo (x1), size_t size (x2),
 *                   void (*entry)(void *) (x3), void *arg (x4))
 * Builds the frame above at the top of the stack, so that the first switch
 * "returns" into the trampoline with x19 = entry, x20 = arg. */
        .globl  axi_ctx_make
        .hidden axi_ctx_make
        .type   axi_ctx_make, %function
        .p2align 4
axi_ctx_make:
        .cfi_startproc
        add     x9, x1, x2
        and     x9, x9, #~15
        sub     x9, x9, #176
        stp     x3, x4, [x9, #0]        /* x19 = entry, x20 = arg */
        stp     xzr, xzr, [x9, #16]
        stp     xzr, xzr, [x9, #32]
        stp     xzr, xzr, [x9, #48]
        stp     xzr, xzr, [x9, #64]
        adr     x10, axi_ctx_trampoline
        stp     xzr, x10, [x9, #80]     /* x29 = 0 ends frame walks; x30 */
        stp     xzr, xzr, [x9, #96]
        stp     xzr, xzr, [x9, #112]
        stp     xzr, xzr, [x9, #128]
        stp     xzr, xzr, [x9, #144]
        mrs     x10, fpcr               /* start with the creator's FP modes */
        stp     x10, xzr, [x9, #160]
        str     x9, [x0]
        ret
        .cfi_endproc
        .size   axi_ctx_make, .-axi_ctx_make

/* First code on a new stack: call entry(arg), which never returns.  The
 * undefined return address tells debuggers and unwinders the stack ends. */
        .type   axi_ctx_trampoline, %function
        .p2align 4
axi_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x0, x20
        blr     x19
        brk     #0
        .cfi_endproc
        .size   axi_ctx_trampoline, .-axi_ctx_trampoline

        .section .note.GNU-stack,"",%progbits
