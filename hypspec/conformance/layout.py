"""Physical memory layout of a Stage-2 conformance image, and the check that a case fits it.

The image runs on QEMU ``-M virt,virtualization=on -cpu cortex-a15 -m 1024``.  Everything the
harness owns lives in the first 128 MiB of RAM; everything a case may describe (translation
tables, data words, fetch targets) lives in two regions above it.  Between two cases the harness
restores the invariant "all RAM from TABLE_BASE to RAM_END is zero", so memory a case did not
specify reads as zero: an invalid descriptor in a table, ``andeq r0, r0, r0`` as an instruction,
and 0 as data -- never a leftover of an earlier case.

Guest-visible addresses: the guest runs in Non-secure SVC mode with its stage 1 MMU off, so
VA == IPA.  The harness reaches its guest stub (exception vectors and the access snippets) by
inserting one block descriptor into the case's start-level table (see
:attr:`Stage2Geometry.stub_descriptor`); a read or write case must leave that slot, and the IPA
range it maps, to the harness.  A fetch case gets no stub: the guest is entered at the case's IPA.

Limits a case author should know:

* Memory below TABLE_BASE is not the case's: a read that Stage 2 sends there sees the DTB or the
  harness; a write there is refused (reported ``no_report``), as is a read of the device window.
* A guest exception at PL1 reaches the guest's vectors only through the stub mapping, so in a
  fetch case it shows up as a Stage 2 Prefetch Abort on the vector's IPA unless the case maps
  IPA GUEST_STUB_IPA to GUEST_BASE itself.
* A fetch that succeeds runs whatever the PA holds; code other than an HVC is stopped only by
  the per-case watchdog (zero memory executes as ``andeq r0, r0, r0``, a no-op).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypspec.categories.stage2.case import Stage2Case
from hypspec.conformance.errors import ConformanceInputError

# --- The machine -------------------------------------------------------------------------------

#: virt places RAM at 1 GiB; ``-m 1024`` makes it end exactly at 2 GiB.
RAM_BASE = 0x4000_0000
RAM_SIZE = 0x4000_0000
RAM_END = RAM_BASE + RAM_SIZE
QEMU_MEMORY_MIB = RAM_SIZE >> 20

#: QEMU copies the device tree to the start of RAM for an ELF kernel; we never read it, but the
#: image must not be linked on top of it.
DTB_BASE = RAM_BASE
DTB_SIZE = 0x0010_0000

#: virt's PL011 UART: a byte stored to its data register is printed on ``-serial stdio``.
UART_BASE = 0x0900_0000
#: virt's GICv2 distributor and CPU interface, used only to take the Hyp timer watchdog IRQ.
GICD_BASE = 0x0800_0000
GICC_BASE = 0x0801_0000
#: The Non-secure EL2 (Hyp) physical timer is PPI 10 on virt, i.e. GIC INTID 16 + 10.
HYP_TIMER_INTID = 26
#: Start of virt's device window (GIC, UART, RTC, GPIO, virtio, PCIe MMIO) below RAM: a guest
#: read that Stage 2 sends there could acknowledge the watchdog IRQ or eat UART input, so the
#: harness refuses it (``hypspec.categories.stage2.image.CODE_REFUSED``) instead of running it.
MMIO_BASE = 0x0800_0000

# --- What the harness owns (below TABLE_BASE) --------------------------------------------------

#: Hyp code, Hyp data, Hyp stack: 1 MiB right after the DTB.
HARNESS_BASE = DTB_BASE + DTB_SIZE
HARNESS_SIZE = 0x0010_0000
#: Guest stub (PL1 vectors + one snippet per access shape).  2 MiB-aligned and 2 MiB long so that
#: one level-2 block maps exactly this region and nothing else of the harness.
GUEST_BASE = 0x4020_0000
GUEST_SIZE = 0x0020_0000
#: The stub is mapped with IPA = PA - GUEST_IPA_OFFSET under both stub descriptors: the level-1
#: block maps IPA 0 -> RAM_BASE and the level-2 block maps IPA 0x200000 -> GUEST_BASE.
GUEST_IPA_OFFSET = RAM_BASE
GUEST_STUB_IPA = GUEST_BASE - GUEST_IPA_OFFSET
#: Case records (read by Hyp only): from the end of the stub up to the case-visible regions.
CASES_BASE = GUEST_BASE + GUEST_SIZE
CASES_END = 0x4800_0000

# --- What a case may describe ------------------------------------------------------------------

#: Translation tables.  64 MiB holds 16384 4-KiB tables, far more than a case uses.
TABLE_BASE = 0x4800_0000
TABLE_END = 0x4C00_0000
#: Data words and fetch targets.  Separate from the tables so that a case's data can be mapped by
#: a 256 MiB range of blocks without covering its own tables.
DATA_BASE = 0x5000_0000
DATA_END = 0x6000_0000
#: RAM the harness keeps zero between cases (tables, data, and the unused RAM around them).
SCRATCH_BASE = TABLE_BASE
SCRATCH_END = RAM_END
#: A guest write whose PA (by ATS12NSOPW) is below this would hit devices, the DTB or the
#: harness itself: the harness refuses to run it and reports "no_report" instead.
WRITE_PROTECT_END = TABLE_BASE

# --- Stage 2 descriptors (ARM DDI 0406C.d B3.6, long-descriptor format) ----------------------

DESC_BLOCK = 0b01  # levels 1 and 2
DESC_TABLE = 0b11  # levels 1 and 2; the same encoding is a page at level 3
S2_MEMATTR_NORMAL_WB = 0b1111 << 2  # MemAttr[5:2]: Normal, Outer and Inner Write-Back
S2_AP_RW = 0b11 << 6  # S2AP[7:6]: read/write at PL1 and PL0
S2_AF = 1 << 10  # AF: set, so the stub never takes an Access flag fault
STUB_ATTRS = S2_MEMATTR_NORMAL_WB | S2_AP_RW | S2_AF

#: Level-1 stub slot: index 0, a 1 GiB block IPA [0, 1 GiB) -> PA [RAM_BASE, RAM_BASE + 1 GiB).
STUB_L1_INDEX = 0
STUB_L1_DESC = RAM_BASE | STUB_ATTRS | DESC_BLOCK
#: Level-2 stub slot: index 1, a 2 MiB block IPA [2 MiB, 4 MiB) -> PA [GUEST_BASE, +2 MiB).
STUB_L2_INDEX = 1
STUB_L2_DESC = GUEST_BASE | STUB_ATTRS | DESC_BLOCK

ACCESS_SIZES = {"read": (1, 2, 4), "write": (1, 2, 4), "fetch": (4,)}


@dataclass(frozen=True)
class Stage2Geometry:
    """The start of a Stage-2 walk as VTCR and VTTBR define it (ARM DDI 0406C.d, B3.6)."""

    t0sz: int  # VTCR.T0SZ as the signed 4-bit value it is
    start_level: int  # 1 or 2
    baddr: int  # VTTBR.BADDR with the bits below `align_bits` cleared
    align_bits: int  # the "x" of VTTBR.BADDR[39:x]: log2 of the start table's size in bytes

    @property
    def input_bits(self) -> int:
        return 32 - self.t0sz

    @property
    def start_table_size(self) -> int:
        return 1 << self.align_bits

    @property
    def stub_slot(self) -> int:
        """PA of the start-level descriptor the harness overwrites with the stub block."""
        index = STUB_L1_INDEX if self.start_level == 1 else STUB_L2_INDEX
        return self.baddr + 8 * index

    @property
    def stub_descriptor(self) -> int:
        return STUB_L1_DESC if self.start_level == 1 else STUB_L2_DESC

    @property
    def stub_ipa_range(self) -> range:
        """IPAs the stub block maps: a case access there would hit the harness, not the case."""
        if self.start_level == 1:
            return range(0, 1 << 30)
        return range(GUEST_STUB_IPA, GUEST_STUB_IPA + GUEST_SIZE)


def vtcr_t0sz(vtcr: int) -> int:
    """VTCR.T0SZ, bits[3:0], a signed value in -8..7."""
    raw = vtcr & 0xF
    return raw - 16 if raw & 0x8 else raw


def stage2_geometry(vtcr: int, vttbr: int) -> Stage2Geometry | None:
    """The walk's start for a *consistent* VTCR, or None when VTCR makes it UNPREDICTABLE/fault.

    Consistency (B3.6, "Determining the required first lookup level for stage 2 translations"):
    SL0 = 0b01 starts at level 1 and needs T0SZ in -8..1; SL0 = 0b00 starts at level 2 and needs
    T0SZ in -2..7; SL0 = 0b1x is reserved; VTCR.S (bit 4) must equal T0SZ[3].
    """
    t0sz = vtcr_t0sz(vtcr)
    sl0 = (vtcr >> 6) & 0b11
    s_bit = (vtcr >> 4) & 1
    if s_bit != (vtcr >> 3) & 1:
        return None
    if sl0 == 0b01 and -8 <= t0sz <= 1:
        start_level, align_bits = 1, 5 - t0sz
    elif sl0 == 0b00 and -2 <= t0sz <= 7:
        start_level, align_bits = 2, 14 - t0sz
    else:
        return None
    baddr = vttbr & ((1 << 40) - 1) & ~((1 << align_bits) - 1)
    return Stage2Geometry(t0sz, start_level, baddr, align_bits)


def _in_region(pa: int, length: int, base: int, end: int) -> bool:
    return base <= pa and pa + length <= end


def _fail(case: Stage2Case, message: str) -> None:
    raise ConformanceInputError(f"Stage-2 case {case.id!r}: {message}")


def validate(case: Stage2Case) -> None:
    """Raise :class:`ConformanceInputError` if the harness cannot run ``case`` faithfully."""
    if not isinstance(case.id, str) or not case.id:
        _fail(case, "id must be a non-empty string")
    if case.access not in ACCESS_SIZES:
        _fail(case, f"access must be 'read', 'write' or 'fetch', not {case.access!r}")
    if not 0 <= case.vtcr < 1 << 32:
        _fail(case, f"vtcr {case.vtcr:#x} is not a 32-bit value")
    if not 0 <= case.vttbr < 1 << 64:
        _fail(case, f"vttbr {case.vttbr:#x} is not a 64-bit value")
    if not 0 <= case.ipa < 1 << 32:
        _fail(case, f"ipa {case.ipa:#x} must be below 2**32: the guest runs with VA == IPA")
    if case.size not in ACCESS_SIZES[case.access]:
        allowed = ", ".join(str(s) for s in ACCESS_SIZES[case.access])
        _fail(case, f"size {case.size} is not valid for a {case.access} (allowed: {allowed})")
    if case.ipa % case.size:
        _fail(
            case,
            f"ipa {case.ipa:#x} is not {case.size}-byte aligned; with the guest MMU off every "
            "access is Strongly-ordered, so an unaligned one would take an Alignment fault at "
            "PL1 before reaching Stage 2",
        )
    if case.signed and (case.access != "read" or case.size == 4):
        _fail(case, "signed applies only to 1- and 2-byte reads (LDRSB, LDRSH)")
    if case.access != "fetch" and not 0 <= case.rt <= 12:
        _fail(case, f"rt must be r0..r12, not r{case.rt}")
    if not 0 <= case.value < 1 << 32:
        _fail(case, f"value {case.value:#x} must be a 32-bit register value")
    _validate_memory(case)
    if case.access != "fetch":
        _validate_stub(case)


def _validate_memory(case: Stage2Case) -> None:
    for pa, word in case.memory.items():
        if not isinstance(pa, int) or pa % 8:
            _fail(case, f"memory address {pa!r} is not an 8-byte-aligned integer")
        if not isinstance(word, int) or not 0 <= word < 1 << 64:
            _fail(case, f"memory[{pa:#x}] = {word!r} is not a 64-bit unsigned value")
        in_table = _in_region(pa, 8, TABLE_BASE, TABLE_END)
        in_data = _in_region(pa, 8, DATA_BASE, DATA_END)
        if not (in_table or in_data):
            _fail(
                case,
                f"memory word at PA {pa:#x} is outside the TABLE region "
                f"[{TABLE_BASE:#x}, {TABLE_END:#x}) and the DATA region "
                f"[{DATA_BASE:#x}, {DATA_END:#x}); below them is the harness, above them it "
                "could not be cleaned up",
            )


def _validate_stub(case: Stage2Case) -> None:
    """Reads and writes run a guest snippet, so the stub must be mappable under this VTCR."""
    geometry = stage2_geometry(case.vtcr, case.vttbr)
    if geometry is None:
        _fail(
            case,
            f"vtcr {case.vtcr:#010x} has SL0/T0SZ/S inconsistent or reserved (SL0=1 needs T0SZ "
            "-8..1, SL0=0 needs T0SZ -2..7, S must equal T0SZ[3]); the guest snippet could not "
            "be reached, so only a 'fetch' case can observe such a configuration",
        )
        return
    vttbr_pa = case.vttbr & ((1 << 40) - 1)
    if vttbr_pa != geometry.baddr:
        _fail(
            case,
            f"VTTBR.BADDR {vttbr_pa:#x} is not aligned to the start table size "
            f"{geometry.start_table_size:#x} (x = {geometry.align_bits}); where the walk reads "
            "its first descriptor would be ambiguous, so only a 'fetch' case may do this",
        )
    if not _in_region(geometry.baddr, geometry.start_table_size, TABLE_BASE, TABLE_END):
        _fail(
            case,
            f"the level-{geometry.start_level} start table [{geometry.baddr:#x}, "
            f"{geometry.baddr + geometry.start_table_size:#x}) must lie in the TABLE region "
            f"[{TABLE_BASE:#x}, {TABLE_END:#x}) so the harness can insert the stub descriptor",
        )
    if geometry.stub_slot in case.memory:
        _fail(
            case,
            f"memory word at PA {geometry.stub_slot:#x} is the level-{geometry.start_level} "
            f"start-table slot the harness uses to map its guest stub "
            f"(index {STUB_L1_INDEX if geometry.start_level == 1 else STUB_L2_INDEX}); "
            "leave it out of the case",
        )
    stub = geometry.stub_ipa_range
    if case.ipa in stub:
        _fail(
            case,
            f"ipa {case.ipa:#x} is inside [{stub.start:#x}, {stub.stop:#x}), the IPA range of "
            f"the harness stub block under a level-{geometry.start_level} start",
        )
