"""Processor-state constants from ARM DDI 0406C.d, shared by the mode and exception tests.

Mode encodings from Table B1-1, CPSR bit positions from §B1.3.3, and the banked
register numbers as the ARMv8 mapping of the AArch32 registers lays them out
(§B1.3.2: 0-7 R0-R7, 8-12 R8_usr-R12_usr, 13 SP_usr, 14 LR_usr, 15 SP_hyp,
16/17 LR/SP_irq, 18/19 LR/SP_svc, 20/21 LR/SP_abt, 22/23 LR/SP_und,
24-28 R8_fiq-R12_fiq, 29/30 SP/LR_fiq).
"""

from __future__ import annotations

USR, FIQ, IRQ, SVC, MON, ABT, HYP, UND, SYS = 0x10, 0x11, 0x12, 0x13, 0x16, 0x17, 0x1A, 0x1B, 0x1F
MODES = (USR, FIQ, IRQ, SVC, ABT, HYP, UND, SYS)
T_BIT, F_BIT, I_BIT, A_BIT, E_BIT = 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9
TGE = 1 << 27  # HCR.TGE

# Register numbers as the ARMv8 mapping of the AArch32 registers lays them out.
SP_USR, LR_USR, SP_HYP, LR_IRQ, SP_IRQ, LR_SVC, SP_SVC = 13, 14, 15, 16, 17, 18, 19
LR_ABT, SP_ABT, LR_UND, SP_UND, SP_FIQ, LR_FIQ = 20, 21, 22, 23, 29, 30

SPSR_OF = {FIQ: "SPSR_fiq", IRQ: "SPSR_irq", SVC: "SPSR_svc", ABT: "SPSR_abt", UND: "SPSR_und",
           HYP: "SPSR_hyp"}
