"""Hand-built HSR values, from the field layouts of ARM DDI 0406C.d §B3.13.6.

HSR: EC<31:26>, IL<25>, ISS<24:0>. For the coprocessor classes the ISS starts
with CV<24> COND<23:20>; then
  MCR/MRC (EC 0x03, 0x05, 0x08): Opc2<19:17> Opc1<16:14> CRn<13:10> Rt<8:5> CRm<4:1> Direction<0>
  MCRR/MRRC (EC 0x04, 0x0C):     Opc1<19:16> Rt2<13:10> Rt<8:5> CRm<4:1> Direction<0>
Direction is 1 for a read (MRC, MRRC). Used by the syndrome and trap tests.
"""

from __future__ import annotations


def hsr(ec: int, il: int, iss: int) -> int:
    return ec << 26 | il << 25 | iss


def cv(cond: int = 0xE) -> int:
    """CV set and the condition field: the instruction's condition is valid."""
    return 1 << 24 | cond << 20


def iss_mcr(*, opc2: int = 0, opc1: int = 0, crn: int, rt: int, crm: int, read: bool,
            cond: int = 0xE) -> int:
    return cv(cond) | opc2 << 17 | opc1 << 14 | crn << 10 | rt << 5 | crm << 1 | int(read)


def iss_mcrr(*, opc1: int, rt2: int, rt: int, crm: int, read: bool, cond: int = 0xE) -> int:
    return cv(cond) | opc1 << 16 | rt2 << 10 | rt << 5 | crm << 1 | int(read)
