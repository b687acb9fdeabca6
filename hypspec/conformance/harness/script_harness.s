@ =================================================================================================
@ hypspec script harness: the Hyp-mode half of an image that runs script vectors (categories gic
@ and timers): sequences of register accesses, each made from the mode its step names.
@
@ Target: QEMU -M virt,virtualization=on -cpu cortex-a15, -smp 1.  Assembled after the shared
@ prelude (prelude.s) and a generated part (hypspec.categories.script.image) that provides:
@   * .equ constants: the report codes, the segment flags, the results buffer size;
@   * in section .guest, one handler per system register access the image makes (`h_<reg>_r`,
@     `h_<reg>_w`), after the static ones below;
@   * `case_count`, `vector_table` (one pointer per vector) and the records: per vector the
@     number of segments and NSEG segment descriptors (flags, nsteps, steps, first step index);
@     the step blocks, 4 words a step: handler, address, value[31:0], value[63:32].  The
@     prelude (the vector file's meta.prelude: the quiesce steps), whose segment every vector
@     runs first, is stored once per image and shared; its segment's first step index is
@     0x80000000, so a stop inside it reports 0x80000000 + k (hypspec.categories.script.case.PRELUDE_FIRST).
@
@ The machine: HCR = 0 at the start of every vector (no stage 2, no trap routing, IMO = FMO = AMO = 0, so a physical IRQ,
@ FIQ or asynchronous abort is a PL1 exception, masked by the guest's CPSR), HSTR = HCPTR = 0,
@ the guest's MMU and caches off (SCTLR from guest_sctlr_init), VBAR = guest_vectors.  Every
@ mode runs with CPSR.A, I and F set.  The harness itself never touches the GIC or the timers:
@ their state is the vectors' (the prelude defines it), and no watchdog is armed.
@
@ Life of one vector:
@   next_vector   results cursor r9 = results; the segments run in order.
@   a segment     CNTPCT is read into the results before and after it when its TIMED flag is
@                 set.  Hyp segment: `run_steps` is called in Hyp mode.  Guest segment: ERET to
@                 `run_steps` in SVC or User mode (SPSR 0x1d3 / 0x1d0) with r9-r12 set; the
@                 segment ends with `hvc #SEG_END_IMM` (SVC) or `svc #SEG_END_IMM` (User mode,
@                 where HVC is UNDEFINED; the guest's SVC vector forwards it with its HVC),
@                 both recognised by their address.
@   run_steps     for each 16-byte step at r10 (until r11): call its handler with r1 = address,
@                 r2/r3 = value; a read handler stores the value (one word, two for MRRC) at r9
@                 and advances it.  Then branch to r12.
@   anything else an exception taken to Hyp from the guest (hyp_trap, not the segment end), a
@                 guest PL1 vector (`hvc #(GUEST_VECTOR_HVC + n)`), or an exception taken in
@                 Hyp mode while a Hyp step runs: the vector stops there and is reported with
@                 the step it stopped at (from r10) -- a disagreement, not a crash.
@
@ Report line (UART, one per vector, lowercase hex):
@   R <index> <code> <step> <a> <b> <c> <d> <e> <nwords>[ <word>]...
@ every field in hex without leading zeros (every character is a UART access, the main cost of
@ a run), preceded by `HYPSPEC-SCRIPT <count:8>` and followed by `DONE <count:8>`; the words are
@ the results buffer (CNTPCT pairs and read values, see hypspec.categories.script.qemu), and
@ code/step/a..e say how the vector ended:
@   0 CODE_OK       every step ran; step = number of steps, a..e = 0
@   1 CODE_TRAP     an exception from the guest taken to Hyp: a = HSR, b = ELR_hyp, c = SPSR_hyp
@   2 CODE_VECTOR   guest PL1 vector a ran: b = LR and c = SPSR of its mode, d/e = IFSR/IFAR
@                   (a = 3) or DFSR/DFAR (a = 4)
@   3 CODE_HYP      an exception in Hyp mode during a Hyp step: a = Hyp vector number,
@                   b = HSR, c = ELR_hyp, d = HDFAR, e = SPSR_hyp
@ =================================================================================================

@ ---- Constants of this harness ------------------------------------------------------------------

        .equ SPSR_GUEST_SVC,    0x1d3           @ SVC mode, A, I, F masked, ARM, little-endian
        .equ SPSR_GUEST_USR,    0x1d0           @ User mode, A, I, F masked

@ =================================================================================================
@ Hyp vector table (HVBAR).  +0x14 Hyp Trap is the way back from a guest segment; +0x04 to
@ +0x10 are exceptions taken in Hyp mode, which a Hyp step may raise; IRQ and FIQ are never
@ routed to Hyp (HCR.IMO = FMO = 0) and mean the harness went wrong.
@ =================================================================================================

        .section .text.vectors, "ax"
        .balign 32
hyp_vectors:
        b       hyp_fatal_0
        b       hyp_step_fault_1
        b       hyp_step_fault_2
        b       hyp_step_fault_3
        b       hyp_step_fault_4
        b       hyp_trap
        b       hyp_fatal_6
        b       hyp_fatal_7

        hyp_fatal_stub 0
        hyp_fatal_stub 6
        hyp_fatal_stub 7
hyp_step_fault_1:
        mov     r0, #1
        b       hyp_step_fault
hyp_step_fault_2:
        mov     r0, #2
        b       hyp_step_fault
hyp_step_fault_3:
        mov     r0, #3
        b       hyp_step_fault
hyp_step_fault_4:
        mov     r0, #4
        b       hyp_step_fault

@ =================================================================================================
@ Entry and one-time setup.
@ =================================================================================================

        .section .text.boot, "ax"
        .global _start
_start:
        hyp_boot hyp_vectors
        mov     r0, #0
        mcr     p15, 4, r0, c1, c1, 0   @ HCR: no stage 2, no routing of IRQ/FIQ/aborts to Hyp
        mcr     p15, 4, r0, c1, c1, 3   @ HSTR: no CP15 traps
        mcr     p15, 4, r0, c1, c1, 2   @ HCPTR: no coprocessor traps
        isb
        bl      guest_sctlr_init
        ldr     r0, =guest_sctlr
        ldr     r0, [r0]
        mcr     p15, 0, r0, c1, c0, 0   @ SCTLR: the guest's MMU and caches off
        ldr     r0, =guest_vectors
        mcr     p15, 0, r0, c12, c0, 0  @ VBAR
        mov     r0, #0
        mcr     p15, 0, r0, c2, c0, 2   @ TTBCR: short-descriptor DFSR/IFSR format
        msr     sp_usr, r0              @ the guest uses no stack
        msr     sp_svc, r0
        isb
        bl      start_cases
        b       next_vector

        .ltorg

@ =================================================================================================
@ next_vector / next_segment / segment_done.
@ =================================================================================================

        .text
next_vector:
        @ HCR = 0 again for every vector: a tlb vector's prelude turns stage 2 on, and a vector
        @ of another category that follows it in the image must run without it.
        mov     r0, #0
        mcr     p15, 4, r0, c1, c1, 0   @ HCR
        isb
        begin_case                      @ r1 = cur_idx
        ldr     r0, =vector_table
        ldr     r4, [r0, r1, lsl #2]    @ r4 = the vector's record
        ldr     r5, [r4], #4            @ number of segments
        ldr     r0, =cur_seg
        str     r4, [r0]
        ldr     r0, =segs_left
        str     r5, [r0]
        bl      clear_report
        ldr     r9, =results            @ r9 = results cursor, live until the report

next_segment:
        ldr     r0, =segs_left
        ldr     r1, [r0]
        subs    r1, r1, #1
        blt     vector_ok
        str     r1, [r0]
        ldr     r0, =cur_seg
        ldr     r4, [r0]
        ldm     r4!, {r6, r7, r10, r11} @ flags, nsteps, steps, first step index
        str     r4, [r0]
        ldr     r0, =seg_flags
        str     r6, [r0]
        ldr     r0, =seg_steps
        str     r10, [r0]
        ldr     r0, =seg_first
        str     r11, [r0]
        add     r11, r10, r7, lsl #4    @ r11 = end of the segment's steps
        tst     r6, #SEG_TIMED
        beq     1f
        isb
        mrrc    p15, 0, r0, r1, c14     @ CNTPCT before the segment
        stmia   r9!, {r0, r1}
1:      ands    r0, r6, #SEG_MODE_MASK
        bne     enter_guest

        @ A Hyp segment: run the steps here.  A fault in a Hyp step enters hyp_step_fault.
        ldr     r0, =hyp_step_active
        mov     r1, #1
        str     r1, [r0]
        ldr     r12, =hyp_segment_done
        b       run_steps
hyp_segment_done:
        ldr     r0, =hyp_step_active
        mov     r1, #0
        str     r1, [r0]
        b       segment_done

        @ A guest segment: ERET to run_steps in SVC or User mode.
enter_guest:
        cmp     r0, #SEG_MODE_SVC
        ldreq   r1, =SPSR_GUEST_SVC
        ldreq   r12, =seg_end_svc
        ldrne   r1, =SPSR_GUEST_USR
        ldrne   r12, =seg_end_usr
        msr     spsr_cxsf, r1
        ldr     r0, =run_steps
        msr     elr_hyp, r0
        mov     lr, #0                  @ LR_usr: Hyp has no banked LR of its own
        eret

@ segment_done: r9 = results cursor after the segment's reads.
segment_done:
        ldr     r0, =seg_flags
        ldr     r6, [r0]
        tst     r6, #SEG_TIMED
        beq     next_segment
        isb
        mrrc    p15, 0, r0, r1, c14     @ CNTPCT after the segment
        stmia   r9!, {r0, r1}
        b       next_segment

vector_ok:
        ldr     r5, =report
        mov     r0, #CODE_OK
        str     r0, [r5, #RPT_CODE]
        ldr     r0, =seg_first          @ step = the index after the last step run
        ldr     r0, [r0]
        ldr     r1, =seg_steps
        ldr     r1, [r1]
        sub     r2, r10, r1
        add     r0, r0, r2, lsr #4
        str     r0, [r5, #RPT_STEP]
        b       report_vector

        .ltorg

@ =================================================================================================
@ hyp_trap (HVBAR + 0x14): an exception from the guest.  The segment's end, or a disagreement.
@ =================================================================================================

hyp_trap:
        push    {r0-r12}                @ the guest's r0-r12: r9 = results cursor, r10 = step
        mrc     p15, 4, r6, c5, c2, 0   @ HSR
        mrs     r7, elr_hyp
        mrs     r8, spsr
        lsr     r0, r6, #26
        cmp     r0, #EC_HVC
        bne     guest_trap
        ubfx    r1, r6, #0, #16         @ the HVC's immediate
        cmp     r1, #SEG_END_IMM
        bne     1f
        ldr     r2, =(seg_end_svc + 4)
        cmp     r7, r2
        beq     guest_segment_done
        b       guest_trap
1:      sub     r2, r1, #GUEST_VECTOR_HVC
        cmp     r2, #8
        bhs     guest_trap
        ldr     r0, =(guest_vectors + 4)
        add     r0, r0, r2, lsl #2
        cmp     r7, r0                  @ the HVC of guest vector r2 itself?
        bne     guest_trap
        and     r0, r8, #0x1f
        bl      banked_lr_spsr          @ r1 = LR, r3 = SPSR of the vector's mode
        cmp     r2, #2                  @ the SVC vector after the User-mode segment end?
        bne     guest_vector
        ldr     r0, =(seg_end_usr + 4)
        cmp     r1, r0
        beq     guest_segment_done

        @ Guest PL1 vector r2 ran: a = n, b = LR, c = SPSR, d/e = the fault status and address.
guest_vector:
        ldr     r5, =report
        mov     r0, #CODE_VECTOR
        str     r0, [r5, #RPT_CODE]
        str     r2, [r5, #RPT_A]
        str     r1, [r5, #RPT_B]
        str     r3, [r5, #RPT_C]
        bl      guest_fault_regs        @ IFSR/IFAR or DFSR/DFAR for an abort
        str     r0, [r5, #RPT_D]
        str     r1, [r5, #RPT_E]
        b       guest_stopped

        @ Another exception taken to Hyp: a = HSR, b = ELR_hyp, c = SPSR_hyp.
guest_trap:
        ldr     r5, =report
        mov     r0, #CODE_TRAP
        str     r0, [r5, #RPT_CODE]
        str     r6, [r5, #RPT_A]
        str     r7, [r5, #RPT_B]
        str     r8, [r5, #RPT_C]

        @ The vector stops at the guest's step: the one at its r10.
guest_stopped:
        ldr     r9, [sp, #(9 * 4)]      @ guest r9
        ldr     r10, [sp, #(10 * 4)]    @ guest r10
        bl      stopped_step
        b       report_vector

guest_segment_done:
        ldr     r9, [sp, #(9 * 4)]      @ guest r9: the results cursor after the segment
        ldr     sp, =hyp_stack_top
        b       segment_done

@ hyp_step_fault: an exception taken in Hyp mode (r0 = vector number).  During a Hyp step it
@ stops the vector (r9, r10 are the Hyp interpreter's); anywhere else it is a harness bug.
hyp_step_fault:
        ldr     r1, =hyp_step_active
        ldr     r2, [r1]
        cmp     r2, #0
        beq     hyp_fatal
        mov     r2, #0
        str     r2, [r1]
        ldr     sp, =hyp_stack_top
        ldr     r5, =report
        mov     r1, #CODE_HYP
        str     r1, [r5, #RPT_CODE]
        str     r0, [r5, #RPT_A]
        mrc     p15, 4, r0, c5, c2, 0   @ HSR
        str     r0, [r5, #RPT_B]
        mrs     r0, elr_hyp
        str     r0, [r5, #RPT_C]
        mrc     p15, 4, r0, c6, c0, 0   @ HDFAR
        str     r0, [r5, #RPT_D]
        mrs     r0, spsr
        str     r0, [r5, #RPT_E]
        bl      stopped_step
        b       report_vector

@ stopped_step: report.step = the segment's first index + (r10 - its steps) / 16.
@ Clobbers r0-r2.
stopped_step:
        ldr     r0, =seg_first
        ldr     r0, [r0]
        ldr     r1, =seg_steps
        ldr     r1, [r1]
        sub     r2, r10, r1
        add     r0, r0, r2, lsr #4
        ldr     r1, =report
        str     r0, [r1, #RPT_STEP]
        bx      lr

        .ltorg

@ =================================================================================================
@ report_vector: print the R line (r9 = results cursor), advance.
@ =================================================================================================

report_vector:
        ldr     sp, =hyp_stack_top
        mov     r0, #'R'
        bl      put_char
        ldr     r0, =cur_idx
        ldr     r0, [r0]
        bl      put_word_short
        ldr     r5, =report
        mov     r6, #RPT_WORDS
1:      ldr     r0, [r5], #4            @ code, step, a, b, c, d, e
        bl      put_word_short
        subs    r6, r6, #1
        bne     1b
        ldr     r5, =results
        sub     r6, r9, r5
        lsr     r6, r6, #2              @ words stored
        mov     r0, r6
        bl      put_word_short
2:      subs    r6, r6, #1
        blt     3f
        ldr     r0, [r5], #4
        bl      put_word_short
        b       2b
3:      bl      put_newline
        end_case
        b       next_vector

        .ltorg

@ =================================================================================================
@ Hyp data.
@ =================================================================================================

        .section .rodata
banner:         .asciz "HYPSPEC-SCRIPT"

        .bss
        .balign 8
cur_seg:        .space 4                @ the next segment descriptor
segs_left:      .space 4                @ segments of the vector not yet started
seg_flags:      .space 4                @ the current segment's flags
seg_steps:      .space 4                @ the current segment's first step record
seg_first:      .space 4                @ the current segment's first step index
hyp_step_active: .space 4               @ 1 while a Hyp segment's steps run
        .balign 8
report:         .space RPT_WORDS * 4    @ code, step, a, b, c, d, e
        .balign 8
results:        .space RESULT_WORDS * 4 @ CNTPCT pairs and read values of the current vector

@ =================================================================================================
@ Guest code (executable from Hyp, SVC and User mode alike: every MMU is off).
@ =================================================================================================

        .section .guest, "ax"
        guest_vector_table              @ SVC: also a User segment's end; IRQ, FIQ: masked

seg_end_svc:
        hvc     #SEG_END_IMM
seg_end_usr:
        svc     #SEG_END_IMM

@ run_steps: r10 = first step, r11 = end, r9 = results cursor, r12 = where to go after.
@ Clobbers r0-r3 and lr.
run_steps:
1:      cmp     r10, r11
        bxhs    r12
        ldm     r10, {r0-r3}            @ handler, address, value[31:0], value[63:32]
        blx     r0
        add     r10, r10, #16
        b       1b

@ The memory-mapped handlers: one word at r1.
h_mmio_r:
        ldr     r2, [r1]
        str     r2, [r9], #4
        bx      lr
h_mmio_w:
        str     r2, [r1]
        bx      lr
