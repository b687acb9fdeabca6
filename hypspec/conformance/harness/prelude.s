@ =================================================================================================
@ hypspec harness prelude: what the Stage-2, trap and script harnesses share.
@
@ Assembled in front of each harness (hypspec.conformance.toolchain.harness_source), after the
@ generated .equ constants, which must define UART_BASE (and GICD_BASE, GICC_BASE and
@ HYP_TIMER_INTID for the watchdog helpers, GUEST_VECTOR_HVC for the guest vector table and
@ RPT_WORDS for clear_report).  The harness itself must define `case_count` (the number of cases
@ of the image), a `banner` string and a `report` buffer of RPT_WORDS words.
@
@ Provides:
@   * the architectural constants every harness uses (HSCTLR, SCTLR, modes, HSR.EC, GICv2
@     offsets, semihosting);
@   * the macros `hyp_boot` (the first instructions after reset) and `hyp_fatal_stub`;
@   * the macros `begin_case`, `end_case` (stepping through the cases) and
@     `guest_vector_table` (a guest PL1 vector table that reports itself with HVCs);
@   * the routines `guest_sctlr_init`, `start_cases`, `all_done`, `clear_report`, `hyp_fatal`,
@     `semihost_exit`, `watchdog_gic_init`, `watchdog_stop`, `watchdog_ack`, `banked_lr_spsr`,
@     `guest_fault_regs` and the UART printers `put_hex`, `put_hex_raw`, `put_word_short`,
@     `put_case_index`, `put_count_line`, `put_str`, `put_char`, `put_newline`;
@   * the data `cur_idx`, `guest_sctlr`, `hyp_stack`/`hyp_stack_top`.
@
@ Target: QEMU -M virt,virtualization=on -cpu cortex-a15.  QEMU enters the ELF entry point in
@ Hyp mode with HCR = 0; every harness keeps Hyp's own MMU off, so Hyp addresses are physical.
@ =================================================================================================

        .syntax unified
        .arm
        .arch_extension virt            @ HVC, ERET, MSR/MRS ELR_hyp and banked registers

@ ---- Architectural constants -------------------------------------------------------------------

        .equ HSCTLR_M,          1 << 0          @ Hyp stage 1 MMU enable
        .equ HSCTLR_A,          1 << 1          @ Hyp alignment check
        .equ HSCTLR_C,          1 << 2          @ Hyp data cache enable
        .equ HSCTLR_I,          1 << 12         @ Hyp instruction cache enable

        .equ SCTLR_M,           1 << 0          @ guest stage 1 MMU: off, so VA == IPA
        .equ SCTLR_A,           1 << 1          @ guest alignment check: off
        .equ SCTLR_C,           1 << 2          @ guest data cache: off
        .equ SCTLR_I,           1 << 12         @ guest instruction cache: off
        .equ SCTLR_V,           1 << 13         @ guest high vectors: off, so VBAR is used
        .equ SCTLR_EE,          1 << 25         @ guest exception endianness: little
        .equ SCTLR_TE,          1 << 30         @ guest exceptions in ARM (not Thumb) state
        .equ SCTLR_CLEAR,       SCTLR_M | SCTLR_A | SCTLR_C | SCTLR_I | SCTLR_V | SCTLR_EE | SCTLR_TE

        .equ MODE_USR,          0x10
        .equ MODE_FIQ,          0x11
        .equ MODE_IRQ,          0x12
        .equ MODE_SVC,          0x13
        .equ MODE_ABT,          0x17
        .equ MODE_UND,          0x1b

        @ HSR.EC values (ARM DDI 0406C.d §B3.13.6, Use of the HSR).
        .equ EC_HVC,            0x12            @ HVC executed in Non-secure PL1
        .equ EC_PABT_GUEST,     0x20            @ Prefetch Abort routed to Hyp (Stage 2 fault)
        .equ EC_DABT_GUEST,     0x24            @ Data Abort routed to Hyp (Stage 2 fault)

        @ GICv2 register offsets (ARM IHI 0048B.b §4.1.2, §4.1.3), for the watchdog.
        .equ GICD_CTLR,         0x000
        .equ GICD_ISENABLER0,   0x100
        .equ GICD_IPRIORITYR,   0x400
        .equ GICC_CTLR,         0x000
        .equ GICC_PMR,          0x004
        .equ GICC_IAR,          0x00c
        .equ GICC_EOIR,         0x010
        .equ GIC_SPURIOUS,      1023

        @ Semihosting SYS_EXIT: r0 = 0x18, r1 = reason; ADP_Stopped_ApplicationExit ends QEMU
        @ with status 0, any other reason with status 1.
        .equ SYS_EXIT,          0x18
        .equ ADP_EXIT_OK,       0x20026
        .equ ADP_EXIT_ERROR,    0x20024         @ ADP_Stopped_InternalError

@ ---- Macros ------------------------------------------------------------------------------------

@ hyp_boot: mask A, I and F (Hyp never wants to be interrupted), set the Hyp stack, turn Hyp's
@ MMU, caches and alignment checks off (Hyp accesses physical addresses) and point HVBAR at
@ `vectors` (32-byte aligned).  Clobbers r0.
        .macro hyp_boot vectors
        cpsid   aif
        ldr     sp, =hyp_stack_top
        mrc     p15, 4, r0, c1, c0, 0   @ HSCTLR
        bic     r0, r0, #(HSCTLR_M | HSCTLR_A | HSCTLR_C)
        bic     r0, r0, #HSCTLR_I
        mcr     p15, 4, r0, c1, c0, 0
        isb
        ldr     r0, =\vectors
        mcr     p15, 4, r0, c12, c0, 0  @ HVBAR
        isb
        .endm

@ hyp_fatal_stub n: the target of Hyp vector n when an exception there is a harness bug.
        .macro hyp_fatal_stub n
hyp_fatal_\n:
        mov     r0, #\n
        b       hyp_fatal
        .endm

@ begin_case: the start of every case: reset the Hyp stack and, when every case has run, go to
@ all_done.  Leaves r1 = cur_idx; clobbers r0, r2.
        .macro begin_case
        ldr     sp, =hyp_stack_top
        ldr     r0, =cur_idx
        ldr     r1, [r0]
        ldr     r2, =case_count
        ldr     r2, [r2]
        cmp     r1, r2
        bhs     all_done
        .endm

@ end_case: cur_idx += 1.  Clobbers r0, r1.
        .macro end_case
        ldr     r1, =cur_idx
        ldr     r0, [r1]
        add     r0, r0, #1
        str     r0, [r1]
        .endm

@ guest_vector_table: the guest's PL1 vector table (VBAR, 32-byte aligned).  Entry n is
@ `hvc #(GUEST_VECTOR_HVC + n)`: it reports the PL1 exception to Hyp without touching a
@ register, so Hyp sees the guest's r0-r12 as the exception left them and reads LR/SPSR of the
@ exception's mode with banked MRS (banked_lr_spsr) and the fault registers (guest_fault_regs).
        .macro guest_vector_table
        .balign 32
guest_vectors:
        hvc     #(GUEST_VECTOR_HVC + 0)         @ reset (never taken at PL1)
        hvc     #(GUEST_VECTOR_HVC + 1)         @ Undefined Instruction
        hvc     #(GUEST_VECTOR_HVC + 2)         @ Supervisor Call
        hvc     #(GUEST_VECTOR_HVC + 3)         @ Prefetch Abort
        hvc     #(GUEST_VECTOR_HVC + 4)         @ Data Abort
        hvc     #(GUEST_VECTOR_HVC + 5)         @ not used
        hvc     #(GUEST_VECTOR_HVC + 6)         @ IRQ
        hvc     #(GUEST_VECTOR_HVC + 7)         @ FIQ
        .endm

@ =================================================================================================
@ Routines.
@ =================================================================================================

        .text

@ guest_sctlr_init: `guest_sctlr` = the guest's SCTLR reset value (it holds the RES1 bits) with
@ stage 1, caches, alignment checking, high vectors, big-endian and Thumb exception entry
@ cleared: the SCTLR every harness runs its guest with.  Clobbers r0, r1.
guest_sctlr_init:
        mrc     p15, 0, r0, c1, c0, 0   @ SCTLR (Non-secure, the guest's)
        ldr     r1, =SCTLR_CLEAR
        bic     r0, r0, r1
        ldr     r1, =guest_sctlr
        str     r0, [r1]
        bx      lr

@ start_cases: print "<banner> <case_count:8>\n", which tells the host which harness runs and
@ how many cases follow, and set cur_idx = 0.  Clobbers r0-r3.
start_cases:
        push    {lr}
        ldr     r0, =banner
        bl      put_count_line
        mov     r0, #0
        ldr     r1, =cur_idx
        str     r0, [r1]
        pop     {pc}

@ all_done: "DONE <case_count:8>\n", then end QEMU with status 0.
all_done:
        ldr     r0, =done_str
        bl      put_count_line
        ldr     r1, =ADP_EXIT_OK
        b       semihost_exit

@ put_count_line: the string at r0, then " <case_count:8>\n".  Clobbers r0-r3.
put_count_line:
        push    {lr}
        bl      put_str
        ldr     r0, =case_count
        ldr     r0, [r0]
        mov     r1, #8
        bl      put_hex
        bl      put_newline
        pop     {pc}

@ clear_report: zero the RPT_WORDS words of `report` (both defined by the harness).  Leaves
@ r1 = 0; clobbers r0, r2.
clear_report:
        ldr     r0, =report
        mov     r1, #0
        mov     r2, #RPT_WORDS
1:      str     r1, [r0], #4
        subs    r2, r2, #1
        bne     1b
        bx      lr

@ put_case_index: print "R <cur_idx:8>", the start of a report line.  Clobbers r0-r3.
put_case_index:
        push    {lr}
        mov     r0, #'R'
        bl      put_char
        ldr     r0, =cur_idx
        ldr     r0, [r0]
        mov     r1, #8
        bl      put_hex
        pop     {pc}

@ hyp_fatal: an exception taken from Hyp mode itself (r0 = vector number).  Nothing of the
@ harness state can be trusted; print `F <index:8> <vector:1> <hsr> <hdfar> <hifar> <elr>
@ <spsr>` and stop QEMU with a failure status.
hyp_fatal:
        ldr     sp, =hyp_stack_top
        mov     r4, r0
        mov     r0, #'F'
        bl      put_char
        ldr     r0, =cur_idx
        ldr     r0, [r0]
        mov     r1, #8
        bl      put_hex
        mov     r0, r4
        mov     r1, #1
        bl      put_hex
        mrc     p15, 4, r0, c5, c2, 0   @ HSR
        mov     r1, #8
        bl      put_hex
        mrc     p15, 4, r0, c6, c0, 0   @ HDFAR
        mov     r1, #8
        bl      put_hex
        mrc     p15, 4, r0, c6, c0, 2   @ HIFAR
        mov     r1, #8
        bl      put_hex
        mrs     r0, elr_hyp
        mov     r1, #8
        bl      put_hex
        mrs     r0, spsr
        mov     r1, #8
        bl      put_hex
        bl      put_newline
        ldr     r1, =ADP_EXIT_ERROR
        b       semihost_exit

semihost_exit:                          @ r1 = reason; does not return
        mov     r0, #SYS_EXIT
        svc     0x123456                @ the A32 semihosting call, intercepted by QEMU
9:      b       9b

        .ltorg

@ watchdog_gic_init: let the GIC deliver only the Hyp timer PPI (the per-case watchdog of the
@ Stage-2 and trap harnesses), at a priority the CPU interface lets through.  Clobbers r0-r2.
watchdog_gic_init:
        ldr     r1, =GICD_BASE
        mov     r0, #1
        str     r0, [r1, #GICD_CTLR]    @ distributor on
        mov     r0, #(1 << HYP_TIMER_INTID)
        str     r0, [r1, #GICD_ISENABLER0]
        add     r2, r1, #GICD_IPRIORITYR
        mov     r0, #0x80
        strb    r0, [r2, #HYP_TIMER_INTID]
        ldr     r1, =GICC_BASE
        mov     r0, #0xf0
        str     r0, [r1, #GICC_PMR]     @ priorities numerically below 0xf0 are signalled
        mov     r0, #1
        str     r0, [r1, #GICC_CTLR]    @ CPU interface on
        bx      lr

@ watchdog_stop: disable the Hyp timer (CNTHP_CTL = 0).  Clobbers r0.
watchdog_stop:
        mov     r0, #0
        mcr     p15, 4, r0, c14, c2, 1  @ CNTHP_CTL
        isb
        bx      lr

@ watchdog_ack: acknowledge the watchdog IRQ (GICC_IAR), stop the timer so that its
@ level-sensitive line drops, and only then end the interrupt (GICC_EOIR), so that it cannot be
@ taken again.  Returns the GICC_IAR value in r0.  Clobbers r1-r3.
watchdog_ack:
        push    {r4, lr}
        ldr     r1, =GICC_BASE
        ldr     r4, [r1, #GICC_IAR]     @ acknowledge: active, no longer pending
        bl      watchdog_stop
        ldr     r1, =GICC_BASE
        ubfx    r2, r4, #0, #10
        ldr     r3, =GIC_SPURIOUS
        cmp     r2, r3
        strne   r4, [r1, #GICC_EOIR]
        mov     r0, r4
        pop     {r4, pc}

@ guest_fault_regs: r0 = the guest's fault status and r1 its fault address for a PL1 vector r2
@ that records them: IFSR/IFAR for 3 (Prefetch Abort), DFSR/DFAR for 4 (Data Abort), else 0
@ and 0 (the guest's Non-secure copies, readable from Hyp).  Clobbers nothing else.
guest_fault_regs:
        mov     r0, #0
        mov     r1, #0
        cmp     r2, #3
        mrceq   p15, 0, r0, c5, c0, 1   @ IFSR
        mrceq   p15, 0, r1, c6, c0, 2   @ IFAR
        cmp     r2, #4
        mrceq   p15, 0, r0, c5, c0, 0   @ DFSR
        mrceq   p15, 0, r1, c6, c0, 0   @ DFAR
        bx      lr

@ banked_lr_spsr: r1 = LR and r3 = SPSR of the PL1 mode whose number is in r0 (0 and 0 for any
@ other mode), read with banked MRS: what a PL1 exception recorded.  Clobbers nothing else.
banked_lr_spsr:
        mov     r1, #0
        mov     r3, #0
        cmp     r0, #MODE_UND
        mrseq   r1, lr_und
        mrseq   r3, spsr_und
        cmp     r0, #MODE_SVC
        mrseq   r1, lr_svc
        mrseq   r3, spsr_svc
        cmp     r0, #MODE_ABT
        mrseq   r1, lr_abt
        mrseq   r3, spsr_abt
        cmp     r0, #MODE_IRQ
        mrseq   r1, lr_irq
        mrseq   r3, spsr_irq
        cmp     r0, #MODE_FIQ
        mrseq   r1, lr_fiq
        mrseq   r3, spsr_fiq
        bx      lr

@ put_hex: print ' ' and the low r1 nibbles of r0 in lowercase hex.  put_hex_raw: without the
@ space.  Clobber r0-r3.
put_hex:
        ldr     r3, =UART_BASE
        mov     r2, #' '
        strb    r2, [r3]
put_hex_raw:
        ldr     r3, =UART_BASE
        sub     r1, r1, #1
        lsl     r1, r1, #2              @ shift of the most significant nibble
put_digits:                             @ r0 value, r1 shift of its first nibble, r3 UART_BASE
        lsr     r2, r0, r1
        and     r2, r2, #0xf
        cmp     r2, #10
        addlo   r2, r2, #'0'
        addhs   r2, r2, #('a' - 10)
        strb    r2, [r3]
        subs    r1, r1, #4
        bge     put_digits
        bx      lr

@ put_word_short: print ' ' and r0 in lowercase hex without leading zeros (at least one digit),
@ for reports where most fields are small and every character costs a UART access.
@ Clobbers r0-r3.
put_word_short:
        ldr     r3, =UART_BASE
        mov     r2, #' '
        strb    r2, [r3]
        mov     r1, #28                 @ skip the leading zero nibbles, keep the last
1:      cmp     r1, #0
        beq     put_digits
        lsr     r2, r0, r1
        tst     r2, #0xf
        bne     put_digits
        sub     r1, r1, #4
        b       1b

@ put_str: print the NUL-terminated string at r0.  Clobbers r0-r2.
put_str:
        ldr     r2, =UART_BASE
1:      ldrb    r1, [r0], #1
        cmp     r1, #0
        strbne  r1, [r2]
        bne     1b
        bx      lr

@ put_char: print the byte in r0.  Clobbers r1.
put_char:
        ldr     r1, =UART_BASE
        strb    r0, [r1]
        bx      lr

put_newline:
        mov     r0, #10
        b       put_char

        .ltorg

@ =================================================================================================
@ Shared data.
@ =================================================================================================

        .section .rodata
done_str:       .asciz "DONE"

        .bss
        .balign 8
cur_idx:        .space 4                @ index of the current case
guest_sctlr:    .space 4                @ SCTLR the guest runs with
        .balign 16
hyp_stack:      .space 1024
hyp_stack_top:
