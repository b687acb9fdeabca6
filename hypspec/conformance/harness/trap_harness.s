@ =================================================================================================
@ hypspec trap harness: the Hyp-mode half of an image that runs one guest instruction per case
@ under a trap configuration and reports what happened.
@
@ Target: QEMU -M virt,virtualization=on -cpu cortex-a15 -m 1024.  QEMU enters the ELF entry
@ point in Hyp mode with HCR = 0; Hyp's own MMU stays off, and so does the guest's: HCR.VM = 0
@ and SCTLR.M = 0, so every guest and Hyp address below is a physical address.
@
@ Assembled after the shared prelude (prelude.s) and a generated part
@ (hypspec.categories.traps.image) that provides:
@   * .equ constants: the memory map, the case record layout, the report codes;
@   * in section .guest, after `guest_vectors`, one 8-byte snippet per distinct (instruction,
@     mode):  `.word <instruction>` followed by `hvc #REPORT_IMM` (SVC mode) or
@     `svc #REPORT_IMM` (User mode, where HVC is UNDEFINED);
@   * `case_count` and `case_table`: one REC_SIZE-byte record per case, in order.
@
@ Life of one case:
@   next_case   pick the record; reset the retry count.
@   launch      restore the PL1 state an earlier case may have changed, zero the FP state,
@               program FPEXC (while HCPTR is 0), CPACR, CNTKCTL, HSTR, HDCR, CNTHCTL, HCPTR and
@               HCR (all from Hyp: CPACR and CNTKCTL are PL1 registers that PL2 may write, and
@               CPACR does not apply to Hyp mode); set the guest's banked SP/LR/SPSR; arm the
@               watchdog; load r0-r12 from the record and ERET to the snippet's prologue in SVC
@               or User mode.
@   guest       `sev; wfe` (clearing the Event Register the ERET set), the instruction, then its
@               report instruction.  Whatever it raises:
@               an exception routed to Hyp enters `hyp_trap`; one taken at PL1 enters the
@               guest's vector, which is a single `hvc #(GUEST_VECTOR_HVC + n)`.
@   hyp_trap    save r0-r12, read HSR, ELR_hyp, SPSR_hyp; if the HVC came from guest vector n,
@               also read that mode's LR and SPSR (banked MRS) and, for aborts, the guest's
@               FSR/FAR.  Print the report; next case.
@   hyp_irq     the watchdog (Hyp physical timer) fired.  If the guest had not yet completed
@               the instruction (ELR_hyp = its address or its prologue's) the watchdog fired
@               early: run the case
@               again with twice the budget (at most MAX_RETRIES times).  Otherwise report it.
@ The host (hypspec.categories.traps.qemu) decides the outcome from these raw facts, because
@ it knows the address of every snippet and vector.
@
@ Report line (UART, one per case, lowercase hex):
@   R <index:8> <code:1> <tries:1> <hsr:8> <elr:8> <spsr:8> <vec:1> <glr:8> <gspsr:8> <fsr:8>
@     <far:8> [ r<n:1>=<value:8>]...
@ preceded by `HYPSPEC-TRAP <count:8>` and followed by `DONE <count:8>`; the trailing
@ `rN=value` items list the guest registers r0-r12 whose value differs from the case's initial
@ value.  A fault in Hyp mode itself (a harness bug) prints
@   F <index:8> <vector:1> <hsr> <hdfar> <hifar> <elr> <spsr>
@ and exits with a failure status.
@ =================================================================================================

        .fpu neon-vfpv4                 @ VMSR/VMRS and d16-d31, used to reset the FP state

@ ---- Constants of this harness ------------------------------------------------------------------

        .equ HCR_IMO,           1 << 4          @ physical IRQs (the watchdog) go to Hyp
        .equ FPEXC_EN,          1 << 30
        .equ SPSR_SVC_MASKED,   0x1d3           @ SPSR_svc for an ERET executed at PL1

@ =================================================================================================
@ Hyp vector table (HVBAR, 32-byte aligned).  +0x14 Hyp Trap and +0x18 IRQ are the normal ways
@ back from the guest; every other entry means the harness itself went wrong.
@ =================================================================================================

        .section .text.vectors, "ax"
        .balign 32
hyp_vectors:
        b       hyp_fatal_0
        b       hyp_fatal_1
        b       hyp_fatal_2
        b       hyp_fatal_3
        b       hyp_fatal_4
        b       hyp_trap
        b       hyp_irq
        b       hyp_fatal_7

        hyp_fatal_stub 0
        hyp_fatal_stub 1
        hyp_fatal_stub 2
        hyp_fatal_stub 3
        hyp_fatal_stub 4
        hyp_fatal_stub 7

@ =================================================================================================
@ Entry and one-time setup.
@ =================================================================================================

        .section .text.boot, "ax"
        .global _start
_start:
        hyp_boot hyp_vectors
        mov     r0, #HCR_IMO
        mcr     p15, 4, r0, c1, c1, 0   @ HCR (rewritten per case)
        isb

        bl      guest_sctlr_init

        @ HDCR as the CPU comes out of reset: used by cases that do not set HDCR.
        mrc     p15, 4, r0, c1, c1, 1
        ldr     r1, =boot_hdcr
        str     r0, [r1]

        @ Watchdog budgets: CNTFRQ >> WATCHDOG_SHIFT ticks normally, CNTFRQ >> WAIT_SHIFT for a
        @ WFI/WFE, which may legitimately sleep until the watchdog wakes it.  CNTFRQ is read once
        @ here, so a guest write to it (possible at PL1 on this CPU) cannot change them.
        mrc     p15, 0, r0, c14, c0, 0  @ CNTFRQ
        lsr     r1, r0, #WATCHDOG_SHIFT
        ldr     r2, =normal_ticks
        str     r1, [r2]
        lsr     r1, r0, #WAIT_SHIFT
        ldr     r2, =wait_ticks
        str     r1, [r2]
        bl      watchdog_stop
        bl      watchdog_gic_init       @ the GIC delivers only the Hyp timer PPI
        bl      start_cases
        b       next_case

        .ltorg

@ =================================================================================================
@ next_case / launch.
@ =================================================================================================

        .text
next_case:
        begin_case
        ldr     r4, =case_table
        mov     r3, #REC_SIZE
        mla     r4, r1, r3, r4
        ldr     r0, =cur_rec
        str     r4, [r0]
        mov     r0, #0
        ldr     r1, =retries
        str     r0, [r1]

@ launch: r4 = the case record.  Also the target of a watchdog retry.
launch:
        ldr     sp, =hyp_stack_top
        bl      clear_report

        @ (1) PL1 state an earlier case may have changed.  Hyp accesses are never trapped.
        ldr     r0, =guest_sctlr
        ldr     r0, [r0]
        mcr     p15, 0, r0, c1, c0, 0   @ SCTLR
        ldr     r0, =guest_vectors
        mcr     p15, 0, r0, c12, c0, 0  @ VBAR
        mov     r0, #0
        mcr     p15, 0, r0, c2, c0, 2   @ TTBCR
        mcrr    p15, 0, r0, r0, c2      @ TTBR0 (64-bit)
        mcrr    p15, 1, r0, r0, c2      @ TTBR1 (64-bit)
        mcr     p15, 0, r0, c3, c0, 0   @ DACR
        mcr     p15, 0, r0, c13, c0, 0  @ FCSEIDR
        mcr     p15, 0, r0, c13, c0, 1  @ CONTEXTIDR
        mcr     p15, 0, r0, c13, c0, 2  @ TPIDRURW
        mcr     p15, 0, r0, c13, c0, 3  @ TPIDRURO
        mcr     p15, 0, r0, c13, c0, 4  @ TPIDRPRW
        mcr     p15, 0, r0, c5, c0, 0   @ DFSR
        mcr     p15, 0, r0, c5, c0, 1   @ IFSR
        mcr     p15, 0, r0, c6, c0, 0   @ DFAR
        mcr     p15, 0, r0, c6, c0, 2   @ IFAR
        mcrr    p15, 0, r0, r0, c7      @ PAR (64-bit)
        mcr     p15, 2, r0, c0, c0, 0   @ CSSELR
        mcr     p15, 0, r0, c14, c2, 1  @ CNTP_CTL
        mcr     p15, 0, r0, c14, c3, 1  @ CNTV_CTL

        @ (2) Floating point: with HCPTR = 0 and FPEXC.EN = 1, zero FPSCR and d0-d31, then
        @ program the case's FPEXC.
        mcr     p15, 4, r0, c1, c1, 2   @ HCPTR
        isb
        mov     r0, #FPEXC_EN
        vmsr    fpexc, r0
        mov     r0, #0
        vmsr    fpscr, r0
        ldr     r0, =zeros
        vldm    r0, {d0-d15}
        vldm    r0, {d16-d31}
        ldr     r0, [r4, #REC_FPEXC]
        vmsr    fpexc, r0

        @ (3) The trap configuration.  HCR last; lowering has already ORed in HCR.IMO.
        ldr     r0, [r4, #REC_CPACR]
        mcr     p15, 0, r0, c1, c0, 2   @ CPACR
        ldr     r0, [r4, #REC_CNTKCTL]
        mcr     p15, 0, r0, c14, c1, 0  @ CNTKCTL
        ldr     r0, [r4, #REC_HSTR]
        mcr     p15, 4, r0, c1, c1, 3   @ HSTR
        ldr     r0, [r4, #REC_FLAGS]
        tst     r0, #FLAG_HDCR
        ldrne   r0, [r4, #REC_HDCR]
        ldreq   r0, =boot_hdcr
        ldreq   r0, [r0]
        mcr     p15, 4, r0, c1, c1, 1   @ HDCR
        ldr     r0, [r4, #REC_CNTHCTL]
        mcr     p15, 4, r0, c14, c1, 0  @ CNTHCTL
        ldr     r0, [r4, #REC_HCPTR]
        mcr     p15, 4, r0, c1, c1, 2   @ HCPTR
        ldr     r0, [r4, #REC_HCR]
        mcr     p15, 4, r0, c1, c1, 0   @ HCR
        isb

        @ (4) Banked guest registers: SP_usr = SP_svc = 0 (LR_usr is Hyp's own LR, zeroed just
        @ before the ERET); LR_svc and SPSR_svc make an exception return executed at PL1
        @ continue at the report instruction in SVC mode.
        ldr     r5, [r4, #REC_ENTRY]    @ r5 = address of the instruction under test
        mov     r0, #0
        msr     sp_usr, r0
        msr     sp_svc, r0
        add     r0, r5, #4
        msr     lr_svc, r0
        ldr     r0, =SPSR_SVC_MASKED
        msr     spsr_svc, r0

        @ (5) The exception return enters the guest at its prologue, PROLOGUE_BYTES before the
        @ instruction under test: the return sets the Event Register, the prologue's `sev; wfe`
        @ consume it, so the instruction runs with the register clear.
        sub     r0, r5, #PROLOGUE_BYTES
        msr     elr_hyp, r0
        ldr     r0, [r4, #REC_SPSR]
        msr     spsr_cxsf, r0

        @ (6) The watchdog: the Hyp physical timer, budget << retries.
        ldr     r0, [r4, #REC_FLAGS]
        tst     r0, #FLAG_WAIT
        ldreq   r0, =normal_ticks
        ldrne   r0, =wait_ticks
        ldr     r0, [r0]
        ldr     r1, =retries
        ldr     r1, [r1]
        lsl     r0, r0, r1
        mcr     p15, 4, r0, c14, c2, 0  @ CNTHP_TVAL
        mov     r0, #1
        mcr     p15, 4, r0, c14, c2, 1  @ CNTHP_CTL: ENABLE = 1, IMASK = 0
        isb

        add     lr, r4, #REC_R0
        ldm     lr, {r0-r12}
        mov     lr, #0                  @ LR_usr: Hyp mode has no banked LR of its own
        eret

        .ltorg

@ =================================================================================================
@ hyp_trap (HVBAR + 0x14): an exception from the guest taken to Hyp mode.
@ =================================================================================================

hyp_trap:
        push    {r0-r12}                @ the guest's r0-r12 (Hyp banks only SP, SPSR, ELR)
        bl      watchdog_stop
        ldr     r4, =cur_rec
        ldr     r4, [r4]
        ldr     r5, =report
        mov     r0, #CODE_TRAP
        str     r0, [r5, #RPT_CODE]
        mrc     p15, 4, r6, c5, c2, 0   @ HSR
        str     r6, [r5, #RPT_HSR]
        mrs     r7, elr_hyp
        str     r7, [r5, #RPT_ELR]
        mrs     r8, spsr
        str     r8, [r5, #RPT_SPSR]

        @ Was it the HVC of guest vector n (at guest_vectors + 4n, so ELR = that + 4)?
        lsr     r0, r6, #26
        cmp     r0, #EC_HVC
        bne     report_and_finish
        ldr     r1, =(guest_vectors + 4)
        sub     r2, r7, r1
        cmp     r2, #32
        bhs     report_and_finish
        tst     r2, #3
        bne     report_and_finish
        lsr     r2, r2, #2
        str     r2, [r5, #RPT_VEC]
        mov     r0, #CODE_VECTOR
        str     r0, [r5, #RPT_CODE]

        @ The LR and SPSR of the mode the vector ran in: what the PL1 exception recorded.
        and     r0, r8, #0x1f
        bl      banked_lr_spsr
        str     r1, [r5, #RPT_GLR]
        str     r3, [r5, #RPT_GSPSR]
        bl      guest_fault_regs        @ IFSR/IFAR or DFSR/DFAR for an abort
        str     r0, [r5, #RPT_FSR]
        str     r1, [r5, #RPT_FAR]
        b       report_and_finish

@ =================================================================================================
@ hyp_irq (HVBAR + 0x18): the watchdog fired.
@ =================================================================================================

hyp_irq:
        push    {r0-r12}
        bl      watchdog_ack            @ drops the timer's level before ending the interrupt
        mov     r9, r0                  @ GICC_IAR
        ldr     r4, =cur_rec
        ldr     r4, [r4]
        mrs     r7, elr_hyp

        @ Fired before the instruction completed (in the prologue or on the instruction itself):
        @ the budget was too short for this host (or QEMU was descheduled).  Run the case again
        @ with twice the budget.
        ldr     r0, [r4, #REC_ENTRY]
        sub     r0, r0, r7              @ bytes from the return address to the instruction
        cmp     r0, #PROLOGUE_BYTES
        bhi     1f                      @ unsigned: past the instruction, or elsewhere
        ldr     r1, =retries
        ldr     r2, [r1]
        cmp     r2, #MAX_RETRIES
        bhs     1f
        add     r2, r2, #1
        str     r2, [r1]
        b       launch

1:      ldr     r5, =report
        mov     r0, #CODE_IRQ
        str     r0, [r5, #RPT_CODE]
        str     r7, [r5, #RPT_ELR]
        mrs     r0, spsr
        str     r0, [r5, #RPT_SPSR]
        str     r9, [r5, #RPT_FSR]      @ GICC_IAR
        b       report_and_finish

@ =================================================================================================
@ Report, advance, finish.
@ =================================================================================================

report_and_finish:
        bl      print_report
        end_case
        b       next_case

        .ltorg

@ =================================================================================================
@ Helpers.
@ =================================================================================================

@ print_report: the R line from `report`, then " rN=value" for every guest register (saved at
@ hyp_stack_top - 52 by the trap or IRQ entry) that differs from the case record's initial
@ value.  Expects r4 = case record.  Clobbers r0-r3, r6-r8.
print_report:
        push    {r4, r5, lr}
        bl      put_case_index
        ldr     r5, =report
        ldr     r0, [r5, #RPT_CODE]
        mov     r1, #1
        bl      put_hex
        ldr     r0, =retries
        ldr     r0, [r0]
        mov     r1, #1
        bl      put_hex
        ldr     r0, [r5, #RPT_HSR]
        mov     r1, #8
        bl      put_hex
        ldr     r0, [r5, #RPT_ELR]
        mov     r1, #8
        bl      put_hex
        ldr     r0, [r5, #RPT_SPSR]
        mov     r1, #8
        bl      put_hex
        ldr     r0, [r5, #RPT_VEC]
        mov     r1, #1
        bl      put_hex
        ldr     r0, [r5, #RPT_GLR]
        mov     r1, #8
        bl      put_hex
        ldr     r0, [r5, #RPT_GSPSR]
        mov     r1, #8
        bl      put_hex
        ldr     r0, [r5, #RPT_FSR]
        mov     r1, #8
        bl      put_hex
        ldr     r0, [r5, #RPT_FAR]
        mov     r1, #8
        bl      put_hex

        ldr     r6, =(hyp_stack_top - 52)
        add     r7, r4, #REC_R0
        mov     r8, #0
1:      ldr     r0, [r6, r8, lsl #2]
        ldr     r1, [r7, r8, lsl #2]
        cmp     r0, r1
        beq     2f
        mov     r5, r0
        mov     r0, #' '
        bl      put_char
        mov     r0, #'r'
        bl      put_char
        mov     r0, r8
        mov     r1, #1
        bl      put_hex_raw
        mov     r0, #'='
        bl      put_char
        mov     r0, r5
        mov     r1, #8
        bl      put_hex_raw
2:      add     r8, r8, #1
        cmp     r8, #13
        blo     1b
        bl      put_newline
        pop     {r4, r5, pc}

        .ltorg

@ =================================================================================================
@ Hyp data.
@ =================================================================================================

        .section .rodata
banner:         .asciz "HYPSPEC-TRAP"

        .bss
        .balign 8
cur_rec:        .space 4                @ address of the current case record
retries:        .space 4                @ watchdog retries of the current case
boot_hdcr:      .space 4                @ HDCR at boot (for cases without HDCR)
normal_ticks:   .space 4                @ watchdog budget, CNTHP ticks
wait_ticks:     .space 4                @ watchdog budget for WFI/WFE
        .balign 8
report:         .space RPT_WORDS * 4    @ the fields of the current report line
        .balign 8
zeros:          .space 128              @ source of the zeros loaded into d0-d15 and d16-d31

@ =================================================================================================
@ The guest's PL1 vector table (VBAR).  Entry n is `hvc #(GUEST_VECTOR_HVC + n)`: it reports
@ the PL1 exception to Hyp without touching a register, so Hyp sees the guest's r0-r12 as the
@ exception left them and reads LR/SPSR of the exception's mode with banked MRS.  The snippets
@ follow at SNIPPET_OFFSET.
@ =================================================================================================

        .section .guest, "ax"
        guest_vector_table              @ IRQ: a virtual IRQ (physical ones go to Hyp)
