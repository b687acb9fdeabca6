@ =================================================================================================
@ hypspec Stage-2 conformance harness: the Hyp-mode half of a test image.
@
@ Target: QEMU -M virt,virtualization=on -cpu cortex-a15 (ARMv7-A with the Virtualization and
@ Large Physical Address Extensions).  QEMU enters the ELF entry point in Hyp mode with HCR = 0
@ and VTCR = 0; Hyp's own MMU (HSCTLR.M) is off, so every Hyp load/store below is to a PA.
@
@ This file is assembled after the shared prelude (prelude.s: constants, boot macro, UART
@ printers, exit, the watchdog's GIC set-up) and a generated part
@ (hypspec.categories.stage2.image) that provides:
@   * .equ constants for the memory layout, the case record format and the report codes;
@   * `case_count` and `case_table`: one record per case, walked in order by `next_case`;
@   * in section .guest, after `guest_vectors`, one snippet per access shape (e.g.
@     `ldrsh r5, [r0]; hvc #0`).
@
@ Life of one case (register names as in ARM DDI 0406C.d, Part B, VMSA chapter):
@   next_case   write the case's memory words (tables, data, fetch targets; plus the stub block
@               descriptor that lowering appended), program VTCR/VTTBR, TLBIALLNSNH, run an
@               ATS12NSOPR/ATS12NSOPW on the IPA (to learn the PA a write will hit, and refuse
@               accesses that would clobber the harness or a device), arm the Hyp timer
@               watchdog, load the guest registers and ERET to Non-secure SVC mode.
@   guest       runs its snippet; it ends with `hvc #0` (or, for a fetch case, with whatever
@               the case placed at the fetched PA, normally `hvc #2`).
@   hyp_trap    every exception from the guest that is routed to Hyp mode enters at HVBAR+0x14:
@               an HVC (success, or one of the guest's own PL1 vectors, which `hvc #0xE0+n`),
@               a Stage-2 Data/Prefetch Abort, or another trap.  Read HSR and the fault address
@               registers, print one report line, then `finish_case`.
@   hyp_irq     the watchdog fired: the guest never trapped.  Report a timeout, `finish_case`.
@   finish_case zero every word the case wrote and the doubleword the guest wrote, so that all
@               RAM from SCRATCH_BASE to SCRATCH_END is zero again, and go to the next case.
@
@ Report line (UART, one per case, lowercase hex):
@   R <index:8> <code:1> <hsr:8> <hdfar:8> <hifar:8> <hpfar:8> <value:8> <wlo:8> <whi:8>
@     <parlo:8> <parhi:8>
@ preceded by `HYPSPEC-S2 <count:8>` and followed by `DONE <count:8>`.  parlo/parhi is the
@ 64-bit PAR of the pre-access ATS, or ffffffff/<HSR> if that ATS took a Data Abort in Hyp
@ (an external abort on its table walk), or 0 for a fetch case.  A fault in Hyp mode
@ itself (a harness bug) prints `F <index:8> <vector:1> <hsr> <hdfar> <hifar> <elr> <spsr>` and
@ exits.  The Python side (hypspec.categories.stage2.qemu) documents the meaning of every field.
@ =================================================================================================

@ ---- Constants of this harness ------------------------------------------------------------------

        .equ HCR_VM,            1 << 0          @ enable Stage 2 for the Non-secure PL1&0 regime
        .equ HCR_IMO,           1 << 4          @ route physical IRQs to Hyp (the watchdog), and
                                                @ make the guest's CPSR.I unable to mask them
        .equ HCR_VALUE,         HCR_VM | HCR_IMO

        @ Guest entry state: Non-secure SVC mode (M = 0b10011), ARM state, little-endian, with
        @ A, I and F masked so that nothing but the access under test can happen at PL1.
        .equ GUEST_SPSR,        0x1d3

@ =================================================================================================
@ Hyp vector table.  HVBAR must be 32-byte aligned.  Offsets (ARM DDI 0406C.d, "Exception
@ vectors and the exception base address", Hyp mode vector table):
@   +0x04 Undefined Instruction in Hyp   +0x08 HVC in Hyp   +0x0c Prefetch Abort in Hyp
@   +0x10 Data Abort in Hyp   +0x14 Hyp Trap (every exception from PL0/PL1 that goes to Hyp)
@   +0x18 IRQ   +0x1c FIQ
@ The Hyp Trap and IRQ entries are the normal way back from the guest; a Data Abort in Hyp is
@ expected only from the pre-access ATS; anything else means the harness itself went wrong.
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
hyp_fatal_4:    ldr r1, =ats_guard      @ a Data Abort in Hyp is expected only from the
                ldr r2, [r1]            @ pre-access ATS (see next_case, step 3)
                cmp r2, #0
                bne ats_aborted
                mov r0, #4
                b   hyp_fatal
        hyp_fatal_stub 7

@ =================================================================================================
@ Entry and one-time setup.
@ =================================================================================================

        .section .text.boot, "ax"
        .global _start
_start:
        @ The watchdog IRQ is only taken while the guest runs.  Hyp's own translation regime
        @ stays off: Hyp accesses physical addresses, which is what lets it write the case's
        @ tables and read back the guest's writes by PA.  HVBAR: where Hyp Trap and IRQ land.
        hyp_boot hyp_vectors

        ldr     r0, =HCR_VALUE
        mcr     p15, 4, r0, c1, c1, 0   @ HCR: Stage 2 on for the guest, IRQs to Hyp
        isb

        @ The guest's SCTLR: nothing between the snippet and Stage 2.  Rewritten before every
        @ case.
        bl      guest_sctlr_init

        @ TTBCR.EAE = 0: the guest's DFSR/IFSR use the short-descriptor format, which is how
        @ a guest_exception report's FSR must be decoded.
        mov     r0, #0
        mcr     p15, 0, r0, c2, c0, 2   @ TTBCR

        @ Watchdog budget: CNTFRQ >> WATCHDOG_SHIFT ticks of the Hyp physical timer per case.
        mrc     p15, 0, r0, c14, c0, 0  @ CNTFRQ
        lsr     r0, r0, #WATCHDOG_SHIFT
        ldr     r1, =watchdog_ticks
        str     r0, [r1]
        bl      watchdog_stop
        bl      watchdog_gic_init       @ the GIC delivers only the Hyp timer PPI
        bl      start_cases

        ldr     r0, =case_table
        ldr     r1, =cur_rec
        str     r0, [r1]
        b       next_case

        .ltorg

@ =================================================================================================
@ next_case: set up and enter the guest for case `cur_idx`, whose record is at `cur_rec`.
@ Reached with nothing live: the stack is reset, all state is in memory.
@ =================================================================================================

        .text
next_case:
        begin_case
        ldr     r4, =cur_rec
        ldr     r4, [r4]                @ r4 = case record, kept across the setup below

        @ A fresh report and no dirty doubleword yet.
        bl      clear_report            @ leaves r1 = 0
        ldr     r0, =dirty_pa
        str     r1, [r0]

        @ (1) The case's memory: (pa, lo, hi) triples, stored as little-endian doublewords.
        @ Clean+invalidate each line to the Point of Coherency (DCCIMVAC) so that a Stage 2 walk
        @ with cacheable VTCR.IRGN0/ORGN0 attributes sees it on hardware with caches; QEMU
        @ models no caches, so there it only documents the requirement.
        ldr     r5, [r4, #REC_NWORDS]
        add     r6, r4, #REC_WORDS
2:      subs    r5, r5, #1
        blt     3f
        ldm     r6!, {r0, r2, r3}       @ r0 = pa, r2 = word[31:0], r3 = word[63:32]
        strd    r2, r3, [r0]
        mcr     p15, 0, r0, c7, c14, 1  @ DCCIMVAC
        b       2b
3:      dsb
        mov     r0, #0
        mcr     p15, 0, r0, c7, c5, 0   @ ICIALLU: a fetch case may have written instructions
        mcr     p15, 0, r0, c7, c5, 6   @ BPIALL: and predictors must not remember old code
        dsb
        isb

        @ (2) Stage 2 configuration.  VTTBR is written with MCRR (64-bit: BADDR, VMID).
        ldr     r0, [r4, #REC_VTCR]
        mcr     p15, 4, r0, c2, c1, 2   @ VTCR
        ldr     r0, [r4, #REC_VTTBR_LO]
        ldr     r1, [r4, #REC_VTTBR_HI]
        mcrr    p15, 6, r0, r1, c2      @ VTTBR
        isb
        @ No entry of an earlier case may survive: invalidate all Non-secure non-Hyp TLB
        @ entries, stage 1 and stage 2 (TLBIALLNSNH), and wait for completion.
        mcr     p15, 4, r0, c8, c7, 4   @ TLBIALLNSNH (value ignored)
        dsb
        isb

        @ (3) Ask the MMU where a read/write will go (stage 1 + stage 2 for the Non-secure PL1
        @ regime, with the guest's permission check).  The 64-bit PAR is reported as is.  If
        @ the translation succeeds we learn the PA, which (a) a write case needs to read back
        @ and clean up the written doubleword, and (b) lets us refuse an access that would
        @ hit the harness, the DTB or a device instead of the case's memory.  If it faults we
        @ run the access anyway: the fault is what the case observes.
        ldr     r0, [r4, #REC_KIND]
        cmp     r0, #KIND_FETCH
        beq     launch
        @ An external abort on the walk the ATS performs is not reported in PAR but taken as a
        @ synchronous Data Abort (HSR.CM = 1) in Hyp mode itself: `ats_guard` tells the Hyp
        @ Data Abort vector that this is expected (see `ats_aborted`).
        ldr     r1, [r4, #REC_IPA]
        ldr     r2, =ats_guard
        mov     r3, #1
        str     r3, [r2]
        cmp     r0, #KIND_WRITE
        mcreq   p15, 0, r1, c7, c8, 5   @ ATS12NSOPW
        mcrne   p15, 0, r1, c7, c8, 4   @ ATS12NSOPR
        isb
        mov     r3, #0
        str     r3, [r2]
        mrrc    p15, 0, r2, r3, c7      @ PAR, 64-bit (long-descriptor) format since HCR.VM=1
        ldr     r5, =report
        str     r2, [r5, #RPT_PARLO]
        str     r3, [r5, #RPT_PARHI]
        tst     r2, #1                  @ PAR.F: the translation would fault
        bne     launch
        bfc     r2, #0, #12             @ PA[31:12] ...
        ubfx    r7, r1, #0, #12
        orr     r6, r2, r7              @ ... | IPA[11:0]  = PA[31:0]
        and     r3, r3, #0xff           @ PA[39:32]
        cmp     r0, #KIND_WRITE
        beq     4f
        @ A read is refused only inside the device window: a read of GICC_IAR would
        @ acknowledge the watchdog IRQ and a read of UARTDR would consume input.
        cmp     r3, #0
        bne     launch
        ldr     r7, =MMIO_BASE
        cmp     r6, r7
        blo     launch
        ldr     r7, =RAM_BASE
        cmp     r6, r7
        blo     refuse
        b       launch
4:      @ A write below WRITE_PROTECT_END would corrupt a device, the DTB or this harness.
        cmp     r3, #0
        bne     launch                  @ above 4 GiB: Hyp cannot address it, nothing to restore
        ldr     r7, =WRITE_PROTECT_END
        cmp     r6, r7
        blo     refuse
        ldr     r7, =SCRATCH_END
        cmp     r6, r7
        bhs     launch                  @ not RAM: the access will take an external abort
        bic     r6, r6, #7
        ldr     r7, =dirty_pa
        str     r6, [r7]                @ read back on success, zeroed in finish_case
        b       launch

        @ The ATS took a Data Abort (from hyp_fatal_4).  We are still in Hyp mode with all
        @ registers but r1/r2 intact; the exception return state is simply dropped.  Report
        @ PAR as the impossible value F=1 with every bit set (bit 7 is RES0 in a real PAR) and
        @ the abort's HSR in its upper word, then run the access to observe what it does.
ats_aborted:
        mov     r0, #0
        str     r0, [r1]                @ ats_guard = 0
        ldr     r4, =cur_rec
        ldr     r4, [r4]
        ldr     r5, =report
        mvn     r0, #0
        str     r0, [r5, #RPT_PARLO]
        mrc     p15, 4, r0, c5, c2, 0   @ HSR of the Data Abort taken in Hyp
        str     r0, [r5, #RPT_PARHI]
        b       launch

refuse:
        ldr     r5, =report
        mov     r0, #CODE_REFUSED
        str     r0, [r5, #RPT_CODE]
        b       report_and_finish

        @ (4) Enter the guest.
launch:
        ldr     r0, =guest_sctlr
        ldr     r0, [r0]
        mcr     p15, 0, r0, c1, c0, 0   @ SCTLR: a fetch case's code may have changed it
        ldr     r0, =(guest_vectors - GUEST_IPA_OFFSET)
        mcr     p15, 0, r0, c12, c0, 0  @ VBAR: the guest's PL1 vectors, as an IPA in the stub

        @ Guest r0-r12: zero, except the address register (IPA) and, for a write, Rt = value.
        ldr     r5, =guest_regs_init
        mov     r0, #0
        mov     r1, #13
5:      str     r0, [r5], #4
        subs    r1, r1, #1
        bne     5b
        ldr     r5, =guest_regs_init
        ldr     r0, [r4, #REC_KIND]
        cmp     r0, #KIND_FETCH
        beq     6f
        ldr     r1, [r4, #REC_BASE_REG]
        ldr     r2, [r4, #REC_IPA]
        str     r2, [r5, r1, lsl #2]
        cmp     r0, #KIND_WRITE
        bne     6f
        ldr     r1, [r4, #REC_RT]
        ldr     r2, [r4, #REC_VALUE]
        str     r2, [r5, r1, lsl #2]
6:
        @ ERET from Hyp mode restores CPSR from SPSR_hyp and jumps to ELR_hyp: the snippet's
        @ IPA, or for a fetch case the case's IPA itself (no stub needed).
        ldr     r0, [r4, #REC_ENTRY]
        msr     elr_hyp, r0
        ldr     r0, =GUEST_SPSR
        msr     spsr_cxsf, r0

        @ Arm the watchdog: the Hyp physical timer fires CNTHP_TVAL ticks from now.
        ldr     r0, =watchdog_ticks
        ldr     r0, [r0]
        mcr     p15, 4, r0, c14, c2, 0  @ CNTHP_TVAL
        mov     r0, #1
        mcr     p15, 4, r0, c14, c2, 1  @ CNTHP_CTL: ENABLE = 1, IMASK = 0
        isb

        ldr     lr, =guest_regs_init    @ LR_usr is not the guest's (it runs in SVC mode)
        ldm     lr, {r0-r12}
        eret

        .ltorg

@ =================================================================================================
@ hyp_trap (HVBAR + 0x14): an exception from the guest taken to Hyp mode.  r0-r12 are the
@ guest's (Hyp banks only SP, SPSR and ELR), so they are saved first; SP_hyp still holds
@ hyp_stack_top, which next_case set before the ERET.
@ =================================================================================================

hyp_trap:
        push    {r0-r12}
        mov     r10, sp                 @ r10 -> guest r0..r12
        bl      watchdog_stop
        ldr     r4, =cur_rec
        ldr     r4, [r4]
        ldr     r5, =report
        mrc     p15, 4, r6, c5, c2, 0   @ HSR
        str     r6, [r5, #RPT_HSR]
        lsr     r7, r6, #26             @ HSR.EC
        cmp     r7, #EC_HVC
        beq     trap_hvc

        @ Stage 2 abort (EC 0x20 / 0x24) or some other trap.  HDFAR holds the faulting VA of a
        @ data access, HIFAR that of an instruction fetch, HPFAR holds IPA[39:12] in bits[31:4];
        @ all three are reported for every abort and the host decides which are meaningful.
        cmp     r7, #EC_PABT_GUEST
        cmpne   r7, #EC_DABT_GUEST
        moveq   r0, #CODE_HYP_ABORT
        movne   r0, #CODE_OTHER_TRAP
        str     r0, [r5, #RPT_CODE]
        mrc     p15, 4, r0, c6, c0, 0   @ HDFAR
        str     r0, [r5, #RPT_HDFAR]
        mrc     p15, 4, r0, c6, c0, 2   @ HIFAR
        str     r0, [r5, #RPT_HIFAR]
        mrc     p15, 4, r0, c6, c0, 4   @ HPFAR
        str     r0, [r5, #RPT_HPFAR]
        mrs     r0, elr_hyp             @ the faulting instruction's address (an IPA)
        str     r0, [r5, #RPT_VALUE]
        b       report_and_finish

trap_hvc:
        ubfx    r8, r6, #0, #16         @ HSR.ISS: the HVC's 16-bit immediate
        sub     r0, r8, #GUEST_VECTOR_HVC
        cmp     r0, #8
        blo     trap_guest_vector

        @ The guest completed: its snippet's `hvc #0`, or a fetch case's own instruction.
        mov     r2, #CODE_OK
        ldr     r0, [r4, #REC_KIND]
        cmp     r0, #KIND_READ
        mrsne   r1, elr_hyp             @ write/fetch: report where the HVC was (+4)
        ldreq   r1, [r4, #REC_RT]
        ldreq   r1, [r10, r1, lsl #2]   @ read: the loaded register, as the guest left it
        str     r1, [r5, #RPT_VALUE]
        cmp     r0, #KIND_WRITE
        bne     7f
        ldr     r1, =dirty_pa
        ldr     r1, [r1]
        cmp     r1, #0
        beq     7f                      @ no readable PA (above 4 GiB, or outside RAM)
        ldrd    r8, r9, [r1]            @ the doubleword holding the written bytes, by PA
        str     r8, [r5, #RPT_WLO]
        str     r9, [r5, #RPT_WHI]
        mov     r2, #CODE_OK_WORD
7:      str     r2, [r5, #RPT_CODE]
        b       report_and_finish

        @ One of the guest's PL1 vectors ran (`mov r0, lr; hvc #GUEST_VECTOR_HVC + n`): the
        @ access raised an exception at PL1 instead of reaching or faulting at Stage 2.
        @ value = the guest's LR at the vector; wlo/whi = IFSR/IFAR for a Prefetch Abort,
        @ DFSR/DFAR for a Data Abort (the guest's Non-secure copies, readable from Hyp).
trap_guest_vector:
        mov     r2, #CODE_GUEST_EXCEPTION
        str     r2, [r5, #RPT_CODE]
        ldr     r1, [r10]               @ guest r0 = LR_<mode> at the vector
        str     r1, [r5, #RPT_VALUE]
        mov     r2, r0
        bl      guest_fault_regs
        str     r0, [r5, #RPT_WLO]
        str     r1, [r5, #RPT_WHI]
        b       report_and_finish

@ =================================================================================================
@ hyp_irq (HVBAR + 0x18): the only enabled interrupt is the Hyp timer, so the guest ran for a
@ whole watchdog period without trapping (e.g. a fetch case executing zeros).  Acknowledge it,
@ report a timeout (value = where the guest was, wlo = GICC_IAR) and carry on.
@ =================================================================================================

hyp_irq:
        push    {r0-r12}
        bl      watchdog_ack
        mov     r4, r0                  @ GICC_IAR
        ldr     r5, =report
        str     r4, [r5, #RPT_WLO]
        mov     r0, #CODE_TIMEOUT
        str     r0, [r5, #RPT_CODE]
        mrs     r0, elr_hyp
        str     r0, [r5, #RPT_VALUE]
        b       report_and_finish

@ =================================================================================================
@ report_and_finish / finish_case: print the report, restore the zero invariant, advance.
@ =================================================================================================

report_and_finish:
        bl      print_report
finish_case:
        ldr     r4, =cur_rec
        ldr     r4, [r4]
        ldr     r5, [r4, #REC_NWORDS]
        add     r6, r4, #REC_WORDS
        mov     r2, #0
        mov     r3, #0
1:      subs    r5, r5, #1
        blt     2f
        ldr     r0, [r6], #WORD_TRIPLE_SIZE
        strd    r2, r3, [r0]
        mcr     p15, 0, r0, c7, c14, 1  @ DCCIMVAC, as when writing
        b       1b
2:      ldr     r1, =dirty_pa           @ the guest's own write, if it could land in RAM
        ldr     r0, [r1]
        cmp     r0, #0
        strdne  r2, r3, [r0]
        mcrne   p15, 0, r0, c7, c14, 1  @ DCCIMVAC
        dsb
        ldr     r1, =cur_rec            @ r6 now points just past this record's triples
        str     r6, [r1]
        end_case
        b       next_case

        .ltorg

@ =================================================================================================
@ Small helpers.
@ =================================================================================================

@ print_report: "R <idx> <code> <10 words>\n" from `report`.  Clobbers r0-r3.
print_report:
        push    {r4, r5, lr}
        bl      put_case_index
        ldr     r4, =report
        ldr     r0, [r4], #4
        mov     r1, #1
        bl      put_hex
        mov     r5, #(RPT_WORDS - 1)
1:      ldr     r0, [r4], #4
        mov     r1, #8
        bl      put_hex
        subs    r5, r5, #1
        bne     1b
        bl      put_newline
        pop     {r4, r5, pc}

        .ltorg

@ =================================================================================================
@ Hyp data.
@ =================================================================================================

        .section .rodata
banner:         .asciz "HYPSPEC-S2"

        .bss
        .balign 8
cur_rec:        .space 4                @ address of the current case record
dirty_pa:       .space 4                @ 8-aligned PA the guest's write hits, or 0
ats_guard:      .space 4                @ 1 while the pre-access ATS runs
watchdog_ticks: .space 4                @ CNTHP_TVAL per case
guest_regs_init: .space 13 * 4          @ r0..r12 loaded just before ERET
        .balign 8
report:         .space RPT_WORDS * 4    @ the fields of the current report line

@ =================================================================================================
@ The guest's PL1 vector table (VBAR = its IPA inside the stub).  An exception the
@ access raises at PL1 (Undefined Instruction, a Data Abort the guest itself takes, ...) lands
@ here; each entry records LR_<mode> in r0 and reports itself to Hyp with a distinctive HVC.
@ The generated snippets follow in the same section.
@ =================================================================================================

        .section .guest, "ax"
        .balign 32
guest_vectors:
        b       gvec_0
        b       gvec_1
        b       gvec_2
        b       gvec_3
        b       gvec_4
        b       gvec_5
        b       gvec_6
        b       gvec_7
gvec_0: mov     r0, lr
        hvc     #(GUEST_VECTOR_HVC + 0)         @ reset (never used at PL1)
gvec_1: mov     r0, lr
        hvc     #(GUEST_VECTOR_HVC + 1)         @ Undefined Instruction
gvec_2: mov     r0, lr
        hvc     #(GUEST_VECTOR_HVC + 2)         @ Supervisor Call
gvec_3: mov     r0, lr
        hvc     #(GUEST_VECTOR_HVC + 3)         @ Prefetch Abort taken at PL1
gvec_4: mov     r0, lr
        hvc     #(GUEST_VECTOR_HVC + 4)         @ Data Abort taken at PL1
gvec_5: mov     r0, lr
        hvc     #(GUEST_VECTOR_HVC + 5)         @ not used (Hyp Trap is not a PL1 vector)
gvec_6: mov     r0, lr
        hvc     #(GUEST_VECTOR_HVC + 6)         @ IRQ
gvec_7: mov     r0, lr
        hvc     #(GUEST_VECTOR_HVC + 7)         @ FIQ
